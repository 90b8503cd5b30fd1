using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Distill.Benchmarks;

/// <summary>Runs torch_ops_bench.py with Debian's /usr/bin/python3 and reads its JSON.</summary>
internal sealed record PythonSide(double[] TinyNs, double[] ConvMs)
{
    public static PythonSide Run(int rounds, int tinyIters, int convIters, int threads)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "torch_ops_bench.py");
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, Str(rounds), Str(tinyIters), Str(convIters), Str(threads) })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"torch_ops_bench.py failed ({process.ExitCode}): {stderr}");
        }

        using var json = JsonDocument.Parse(stdout);
        return new PythonSide(Read(json.RootElement, "tiny_ns"), Read(json.RootElement, "conv_ms"));
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static double[] Read(JsonElement root, string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
}
