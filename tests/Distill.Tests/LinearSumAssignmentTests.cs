using Distill.Algorithms;
using Distill.Methods;
using Distill.Testing;
using Xunit;

namespace Distill.Tests;

/// <summary>The Hungarian solver against brute force on small matrices and against scipy (eng/golden/assignment.py) on 512-wide ones.</summary>
public sealed class LinearSumAssignmentTests
{
    private static readonly JsonFixture Fixture = new("assignment.json");

    public static TheoryData<string> ScipyCases => Fixture.Names();

    [Theory]
    [InlineData(1, 1, 100, 0)]
    [InlineData(4, 4, 100, 1)]
    [InlineData(6, 6, 1000, 2)]
    [InlineData(6, 6, 3, 3)]
    [InlineData(3, 6, 100, 4)]
    [InlineData(6, 3, 100, 5)]
    [InlineData(5, 5, 2, 6)]
    public void Solve_EqualsBruteForce(int rows, int columns, int levels, int seed)
    {
        var random = new Random(seed);
        for (var trial = 0; trial < 50; trial++)
        {
            var cost = Enumerable.Range(0, rows * columns).Select(_ => random.Next(levels) / (double)levels - 0.3).ToArray();
            var assignment = LinearSumAssignment.Solve(cost, rows, columns);
            var used = assignment.Where(j => j >= 0).ToArray();
            Assert.Equal(used.Length, used.Distinct().Count());
            Assert.Equal(Math.Min(rows, columns), used.Length);
            Assert.Equal(BruteForce(cost, rows, columns), LinearSumAssignment.TotalCost(cost, columns, assignment), 12);
        }
    }

    [Theory]
    [MemberData(nameof(ScipyCases))]
    public void Solve_MatchesScipy(string name)
    {
        var c = Fixture.Root.GetProperty(name);
        var (rows, columns) = (c.GetProperty("rows").GetInt32(), c.GetProperty("columns").GetInt32());
        var cost = Costs(c.GetProperty("seed").GetUInt64(), rows, columns, c.GetProperty("modulus").GetUInt64());
        var assignment = LinearSumAssignment.Solve(cost, rows, columns);
        var scipy = c.GetProperty("assignment").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal(c.GetProperty("total").GetDouble(), LinearSumAssignment.TotalCost(cost, columns, assignment), 9);
        if (!name.StartsWith("ties", StringComparison.Ordinal))
        {
            Assert.Equal(scipy, assignment);
        }
    }

    [Fact]
    public void Solve_NonFiniteCost_IsNamedByCell()
    {
        var e = Assert.Throws<ArgumentException>(() => LinearSumAssignment.Solve([0, 1, double.NaN, 2], 2, 2));
        Assert.Contains("cost[1, 0] is NaN", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LinearSumAssignment.Solve([0, 1, 2], 2, 2));
    }

    // The generator of eng/golden/assignment.py: splitmix64(seed * 2^32 + i * columns + j) mod modulus, over modulus.
    internal static double[] Costs(ulong seed, int rows, int columns, ulong modulus)
    {
        var cost = new double[rows * columns];
        for (var k = 0; k < cost.Length; k++)
        {
            var x = (seed << 32) + (ulong)k + 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            x ^= x >> 31;
            cost[k] = (x % modulus) / (double)modulus;
        }

        return cost;
    }

    private static double BruteForce(double[] cost, int rows, int columns)
    {
        var best = double.PositiveInfinity;
        var transposed = rows > columns;
        var (n, m) = transposed ? (columns, rows) : (rows, columns);
        double At(int i, int j) => transposed ? cost[(j * columns) + i] : cost[(i * columns) + j];
        void Search(int i, bool[] used, double total)
        {
            if (i == n)
            {
                best = Math.Min(best, total);
                return;
            }

            for (var j = 0; j < m; j++)
            {
                if (!used[j])
                {
                    used[j] = true;
                    Search(i + 1, used, total + At(i, j));
                    used[j] = false;
                }
            }
        }

        Search(0, new bool[m], 0);
        return best;
    }
}
