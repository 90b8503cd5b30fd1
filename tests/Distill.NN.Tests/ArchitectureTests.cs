using Distill.Testing;
using Xunit;

namespace Distill.NN.Tests;

public sealed class ArchitectureTests
{
    [Fact]
    public void PublicApi_MatchesTheReviewedSnapshot() =>
        ApiSnapshot.AssertMatches(typeof(Module).Assembly, Path.Combine(SourceDirectory(), "PublicApi", "Distill.NN.txt"));

    [Fact]
    public void PublicConcreteClasses_AreSealed()
    {
        var open = typeof(Module).Assembly.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsAbstract && !t.IsSealed)
            .Select(t => t.FullName)
            .ToArray();
        Assert.Empty(open);
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
