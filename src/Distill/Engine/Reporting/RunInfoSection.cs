using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Distill.Torch;

namespace Distill.Engine.Reporting;

/// <summary>
/// What the run was: its environment (Distill's and libtorch's versions, the shim's ABI, libtorch's threads, the allocator
/// policy, the seeds, the .NET runtime, the operating system and the processor) as a table, and the resolved recipe
/// (config.yaml) as text.
/// </summary>
public sealed class RunInfoSection : IReportSection
{
    /// <summary>Creates the section.</summary>
    /// <param name="recipe">The resolved recipe as YAML (a comparison: its first run's).</param>
    /// <param name="environment">The environment's entries in order (<see cref="Environment(IReadOnlyList{int})"/>).</param>
    public RunInfoSection(string recipe, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(environment);
        Recipe = recipe;
        EnvironmentEntries = environment;
    }

    /// <summary>The recipe.</summary>
    public string Recipe { get; }

    /// <summary>The environment's entries.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> EnvironmentEntries { get; }

    /// <summary>This process's environment for a run of <paramref name="seeds"/>. Loads the shim.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Environment(IReadOnlyList<int> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        return
        [
            new("Distill", TorchRuntime.Version),
            new("libtorch", string.Create(CultureInfo.InvariantCulture, $"{TorchRuntime.LibTorchVersion} (shim ABI {TorchRuntime.AbiVersion})")),
            new("threads", TorchRuntime.Threads.ToString(CultureInfo.InvariantCulture)),
            new("allocator", TorchRuntime.AllocatorPolicy),
            new("BLAS", TorchRuntime.BlasLibrary),
            new(seeds.Count == 1 ? "seed" : "seeds", string.Join(", ", seeds.Select(s => s.ToString(CultureInfo.InvariantCulture)))),
            new(".NET", RuntimeInformation.FrameworkDescription),
            new("system", $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})"),
            new("processor", $"{ProcessorName() ?? "unknown"}, {System.Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)} logical cores"),
        ];
    }

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        xhtml.Append("<h2 id=\"run-info\">Run</h2>\n<table class=\"environment\">");
        foreach (var (key, value) in EnvironmentEntries)
        {
            xhtml.Append("<tr><th>").Append(WebUtility.HtmlEncode(key)).Append("</th><td style=\"text-align:left\">").Append(WebUtility.HtmlEncode(value)).Append("</td></tr>");
        }

        xhtml.Append("</table>\n<h3>Recipe (config.yaml)</h3>\n<pre class=\"recipe\">").Append(WebUtility.HtmlEncode(Recipe)).Append("</pre>\n");
    }

    /// <summary>The processor's model name from /proc/cpuinfo (Linux), else null.</summary>
    private static string? ProcessorName()
    {
        try
        {
            return File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
