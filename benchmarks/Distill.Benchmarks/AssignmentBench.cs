using System.Diagnostics;
using System.Globalization;
using Distill.Algorithms;
using Distill.Methods;

namespace Distill.Benchmarks;

/// <summary>
/// The Hungarian solver on random n x n costs (Matching Guided Distillation's matching step solves one
/// (G·C_s) x C_t problem per stage, C_t = 2048 for a ResNet-50 teacher's last stage), next to scipy's
/// linear_sum_assignment on the same costs when python3-scipy is installed.
/// </summary>
internal static class AssignmentBench
{
    public static int Run(int[] sizes, int rounds)
    {
        foreach (var n in sizes)
        {
            var cost = Costs(n);
            var times = new List<double>();
            var total = 0.0;
            for (var r = 0; r < rounds; r++)
            {
                var watch = Stopwatch.StartNew();
                var assignment = LinearSumAssignment.Solve(cost, n, n);
                times.Add(watch.Elapsed.TotalMilliseconds);
                total = LinearSumAssignment.TotalCost(cost, n, assignment);
            }

            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"assignment {n}x{n}: Distill median {times[times.Count / 2]:F0} ms (min {times[0]:F0}, max {times[^1]:F0}, {rounds} rounds), total cost {total:F9}"));
            try
            {
                using var scipy = PythonScript.Run("assignment_bench.py", n.ToString(CultureInfo.InvariantCulture), rounds.ToString(CultureInfo.InvariantCulture));
                var median = scipy.RootElement.GetProperty("median_ms").GetDouble();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  scipy median {median:F0} ms, total cost {scipy.RootElement.GetProperty("total").GetDouble():F9}: Distill/scipy time {times[times.Count / 2] / median:F2}x"));
            }
            catch (InvalidOperationException e)
            {
                Console.WriteLine($"  scipy: not run ({e.Message.Split('\n')[0]}; apt install python3-scipy)");
            }
        }

        return 0;
    }

    // splitmix64 of the cell index over 2^40, as assignment_bench.py.
    private static double[] Costs(int n)
    {
        var cost = new double[n * n];
        for (var k = 0; k < cost.Length; k++)
        {
            var x = (ulong)k + 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            x ^= x >> 31;
            cost[k] = (x % (1UL << 40)) / (double)(1UL << 40);
        }

        return cost;
    }
}
