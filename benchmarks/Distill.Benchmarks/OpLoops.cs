using System.Diagnostics;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>The Distill side of each benchmark: the same loops as torch_ops_bench.py.</summary>
internal static class OpLoops
{
    /// <summary>ns per `a + b` on 1-element tensors, the result disposed at once (Python frees it by refcount).</summary>
    public static double[] Tiny(int rounds, int iterations)
    {
        using var a = Tensor.Ones([1]);
        using var b = Tensor.Ones([1]);
        var result = new double[rounds];
        for (var r = -1; r < rounds; r++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < iterations; i++)
            {
                using var c = a + b;
            }

            // Round -1 warms up (the JIT tiers the loop up during it) and is not counted.
            if (r >= 0)
            {
                result[r] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations;
            }
        }

        return result;
    }

    /// <summary>ms per conv2d forward + backward; one warm-up round is not counted.</summary>
    public static double[] Conv(int rounds, int iterations)
    {
        TorchRuntime.ManualSeed(0);
        using var x = Tensor.Randn([32, 64, 32, 32]);
        using var w = Tensor.Randn([64, 64, 3, 3]).RequireGrad();
        using var gy = Tensor.Randn([32, 64, 32, 32]);
        var result = new double[rounds];
        for (var r = 0; r <= rounds; r++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < iterations; i++)
            {
                using var scope = DisposeScope.Enter();
                var y = Functional.Conv2d(x, w, padding: (1, 1));
                y.Backward(gy);
                w.Grad = null;
            }

            if (r > 0)
            {
                result[r - 1] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / iterations;
            }
        }

        return result;
    }
}
