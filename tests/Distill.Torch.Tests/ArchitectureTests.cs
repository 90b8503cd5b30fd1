using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
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
    public void PublicApi_MatchesTheReviewedSnapshot()
    {
        var actual = Describe(Library);
        var snapshot = Path.Combine(SourceDirectory(), "PublicApi", "Distill.Torch.txt");
        var expected = File.Exists(snapshot) ? File.ReadAllText(snapshot) : string.Empty;
        if (actual != expected)
        {
            File.WriteAllText(snapshot + ".received", actual);
            Assert.Fail($"The public API of Distill.Torch changed. Review {snapshot}.received and, if intended, move it over {snapshot}.");
        }
    }

    internal static string Describe(Assembly assembly)
    {
        var sb = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            sb.Append(type.FullName).Append('\n');
            var members = type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => m is not MethodInfo { IsSpecialName: true } || m.Name.StartsWith("op_", StringComparison.Ordinal))
                .Select(m => "  " + m.ToString())
                .Order(StringComparer.Ordinal);
            foreach (var m in members)
            {
                sb.Append(m).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
