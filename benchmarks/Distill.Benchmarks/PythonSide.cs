using System.Globalization;
using System.Text.Json;

namespace Distill.Benchmarks;

/// <summary>Runs torch_ops_bench.py with Debian's /usr/bin/python3 and reads its JSON.</summary>
internal sealed record PythonSide(double[] TinyNs, double[] ConvMs)
{
    public static PythonSide Run(int rounds, int tinyIters, int convIters, int threads)
    {
        using var json = PythonScript.Run("torch_ops_bench.py", Str(rounds), Str(tinyIters), Str(convIters), Str(threads));
        return new PythonSide(Read(json.RootElement, "tiny_ns"), Read(json.RootElement, "conv_ms"));
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static double[] Read(JsonElement root, string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
}
