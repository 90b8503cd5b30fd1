using System.Reflection;
using System.Text;
using Xunit;

namespace Distill.Testing;

/// <summary>The public surface of an assembly as text, compared with a reviewed snapshot committed beside the tests.</summary>
public static class ApiSnapshot
{
    /// <summary>Fails when the public API differs from the snapshot; writes the new one as .received for review.</summary>
    public static void AssertMatches(Assembly assembly, string snapshotPath)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var actual = Describe(assembly);
        var expected = File.Exists(snapshotPath) ? File.ReadAllText(snapshotPath) : string.Empty;
        if (actual != expected)
        {
            File.WriteAllText(snapshotPath + ".received", actual);
            Assert.Fail($"The public API of {assembly.GetName().Name} changed. Review {snapshotPath}.received and, if intended, move it over {snapshotPath}.");
        }
    }

    /// <summary>Every exported type and its public members, sorted.</summary>
    public static string Describe(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var sb = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            sb.Append(type.FullName).Append('\n');
            var members = type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => m is not MethodInfo { IsSpecialName: true } || m.Name.StartsWith("op_", StringComparison.Ordinal))
                .Select(m => "  " + m)
                .Order(StringComparer.Ordinal);
            foreach (var m in members)
            {
                sb.Append(m).Append('\n');
            }
        }

        return sb.ToString();
    }
}
