using System.Globalization;

namespace Distill.Benchmarks;

/// <summary>Median and spread of repeated rounds.</summary>
internal static class Stats
{
    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static string Describe(double[] values) =>
        string.Create(CultureInfo.InvariantCulture, $"{Median(values):G4} [{values.Min():G4}-{values.Max():G4}]");
}
