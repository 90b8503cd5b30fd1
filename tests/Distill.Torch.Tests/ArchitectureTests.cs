using Distill.Testing;
using System.Reflection;
using System.Runtime.InteropServices;
using Xunit;

namespace Distill.Torch.Tests;

/// <summary>Cheap rules that keep the binding's shape: P/Invoke in one place, sealed types, a reviewed public API.</summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly Library = typeof(Tensor).Assembly;

    [Fact]
    public void NativeImports_LiveOnlyInTheInteropNamespace()
    {
        var offenders = Library.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<DllImportAttribute>() is not null || m.Attributes.HasFlag(MethodAttributes.PinvokeImpl))
            .Where(m => m.DeclaringType!.Namespace != "Distill.Torch.Interop")
            .Select(m => $"{m.DeclaringType!.FullName}.{m.Name}")
            .ToArray();
        Assert.Empty(offenders);
    }

    [Fact]
    public void PublicClasses_AreSealedOrStatic()
    {
        var open = Library.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsSealed && !(t.IsAbstract && t.IsSealed) && !typeof(Delegate).IsAssignableFrom(t))
            .Select(t => t.FullName)
            .ToArray();
        Assert.Empty(open);
    }

    [Fact]
    public void PublicApi_MatchesTheReviewedSnapshot() =>
        ApiSnapshot.AssertMatches(Library, Path.Combine(SourceDirectory(), "PublicApi", "Distill.Torch.txt"));

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
