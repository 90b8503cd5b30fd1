using Distill.Models;
using Distill.Testing;
using Xunit;

namespace Distill.Tests;

public sealed class ArchitectureTests
{
    [Fact]
    public void PublicApi_MatchesTheReviewedSnapshot() =>
        ApiSnapshot.AssertMatches(typeof(ClassificationModel).Assembly, Path.Combine(SourceDirectory(), "PublicApi", "Distill.txt"));

    [Fact]
    public void PublicConcreteClasses_AreSealed() =>
        Assert.Empty(typeof(ClassificationModel).Assembly.GetExportedTypes().Where(t => t.IsClass && !t.IsAbstract && !t.IsSealed).Select(t => t.FullName));

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
