using System.Globalization;
using Distill.Torch;

namespace Distill.Testing;

/// <summary>
/// How far a computed value may be from its golden value so that the comparison holds on any x86-64 machine
/// (AVX2 or AVX-512 kernels, oneDNN's ISA-specific convolutions, any thread count), not only on the machine
/// that recorded the fixture. An element passes when
/// <c>|actual - expected| &lt;= Atol + Rtol |expected| + ScaleRtol * rms(expected tensor)</c>.
/// <list type="bullet">
/// <item><c>Atol</c>, <c>Rtol</c>: torch.testing.assert_close's defaults for the dtype (float32: 1e-5 and
/// 1.3e-6; float64: 1e-7 and 1e-7): the rounding of one op on O(1) data. The absolute part also covers a
/// mathematically zero result (a bias gradient before a batch norm) whose value is only the rounding noise
/// of the terms that cancelled.</item>
/// <item><c>ScaleRtol</c>: the rounding a deeper float32 computation accumulates. A float32 sum of n terms of
/// random sign whose total is of size s is off by about u s sqrt(n) (u = 2^-24, each addition rounding a
/// partial sum of size s sqrt(k/n)); with probability 1 - 2 exp(-lambda^2 / 2) by at most lambda u s sqrt(n)
/// (the probabilistic bound of Higham and Mary, SIAM J. Sci. Comput. 41(5), 2019), lambda = 6 here. Two
/// machines (different kernels, blockings, thread splits) each land within that of the exact value, so they
/// differ by at most twice it. Chained layers add their errors (normalised layers pass a relative error on
/// with a gain of about one), so a chain of reductions of lengths n_1..n_L gives
/// <c>ScaleRtol = 2 lambda u sum_l sqrt(n_l)</c>, measured against the tensor's root mean square, the size
/// of the values whose rounding every element carries (an element can cancel to nearly zero, its error does
/// not). The elementwise ops between reductions (activations, residual adds, batch norm in eval mode) round
/// a few times each, below one reduction's sqrt(n) for n &gt;= 9, and are not counted separately.</item>
/// </list>
/// The bound is derived from the computation, never fitted to one machine's differences (which are far
/// smaller: a few u times the RMS for the models). A wrong layer, a missing op or a changed constant moves
/// values by a sizeable fraction of the RMS and still fails.
/// </summary>
public sealed class GoldenTolerance
{
    /// <summary>Float32 unit roundoff u = 2^-24.</summary>
    public const double Float32UnitRoundoff = 5.9604644775390625e-8;

    /// <summary>Bfloat16 unit roundoff u = 2^-8 (8 significant bits).</summary>
    public const double BFloat16UnitRoundoff = 0.00390625;

    /// <summary>Confidence of the probabilistic rounding bound (failure probability 2 exp(-18), about 3e-8, per element and reduction).</summary>
    public const double Lambda = 6;

    private GoldenTolerance(double rtol, double atol, double scaleRtol, string reason)
    {
        Rtol = rtol;
        Atol = atol;
        ScaleRtol = scaleRtol;
        Reason = reason;
    }

    /// <summary>Relative to each element's own expected value.</summary>
    public double Rtol { get; }

    /// <summary>Absolute floor.</summary>
    public double Atol { get; }

    /// <summary>Relative to the root mean square of the whole expected tensor (accumulated rounding of a deep computation).</summary>
    public double ScaleRtol { get; }

    /// <summary>Why this tolerance, for the failure message.</summary>
    public string Reason { get; }

    /// <summary>torch.testing.assert_close's float32 default (rtol 1.3e-6, atol 1e-5): one op on float32 data.</summary>
    public static GoldenTolerance Float32 { get; } = new(GoldenTensor.Rtol, GoldenTensor.Atol, 0, "torch.testing's float32 default: one float32 op");

    /// <summary>torch.testing.assert_close's float64 default (rtol 1e-7, atol 1e-7): one op on float64 data.</summary>
    public static GoldenTolerance Float64 { get; } = new(1e-7, 1e-7, 0, "torch.testing's float64 default: one float64 op");

    /// <summary>Integers and booleans: equal.</summary>
    public static GoldenTolerance Exact { get; } = new(0, 0, 0, "integers compare exactly");

    /// <summary>The one-op default for a dtype: <see cref="Float32"/>, <see cref="Float64"/> or <see cref="Exact"/>.</summary>
    public static GoldenTolerance For(DType dtype) => dtype switch
    {
        DType.Float64 => Float64,
        _ when dtype.IsFloatingPoint() => Float32,
        _ => Exact,
    };

    /// <summary>
    /// A float32 computation chaining reductions of the given lengths (one per layer, forward and backward
    /// counted separately): <see cref="Float32"/> plus <c>2 lambda u sum sqrt(n_l)</c> times the tensor's RMS.
    /// </summary>
    public static GoldenTolerance Float32Chain(IEnumerable<long> reductionLengths, string what)
    {
        var lengths = reductionLengths.ToArray();
        var scale = 2 * Lambda * Float32UnitRoundoff * lengths.Sum(n => Math.Sqrt(Math.Max(n, 1)));
        return new(Float32.Rtol, Float32.Atol, scale,
            $"{what}: float32 chain of {lengths.Length} reductions of up to {lengths.DefaultIfEmpty(0).Max()} terms, 2 x {Lambda} x 2^-24 x sum sqrt(n)");
    }

    /// <summary>
    /// A float32 chain of elementwise ops (an optimizer's steps): add, multiply, divide and square root are
    /// correctly rounded on every CPU, but fused multiply-adds (AVX2 and AVX-512 kernels, not the scalar ones)
    /// round once where two roundings are done elsewhere; each op therefore moves a value by at most u on each
    /// machine, and <paramref name="ops"/> chained ops by <c>2 ops u</c> of the tensor's scale.
    /// </summary>
    public static GoldenTolerance Float32Elementwise(int ops, string what) =>
        new(Float32.Rtol, Float32.Atol, 2 * ops * Float32UnitRoundoff, $"{what}: float32 chain of {ops} elementwise ops, 2 x {ops} x 2^-24");

    /// <summary>
    /// A computation that rounds its values to bfloat16 <paramref name="roundings"/> times along its chain (each layer's
    /// weights and output, the input, batch norm's output, residual sums, a pooled mean; sums themselves accumulate in
    /// float32, whose rounding is negligible beside bfloat16's). A rounding to nearest changes a value by a relative error
    /// of at most u = 2^-8, spread evenly, so of root mean square u / sqrt(3); errors of independent roundings, passed on with
    /// a gain of about one, add up as a random walk to u sqrt(R / 3) of the tensor's RMS, and with the confidence
    /// <see cref="Lambda"/> to at most lambda u sqrt(R / 3). Each element also carries its own last rounding, u |value|.
    /// <paramref name="computations"/> bfloat16 computations of the same value (2: two machines' bfloat16 kernels, each
    /// within that of the exact value; 1: against a float32 computation, exact by comparison) differ by that many times it.
    /// </summary>
    public static GoldenTolerance BFloat16Chain(int roundings, int computations, string what)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(roundings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(computations);
        var scale = computations * Lambda * BFloat16UnitRoundoff * Math.Sqrt(roundings / 3.0);
        return new(computations * BFloat16UnitRoundoff, Float32.Atol, scale,
            string.Create(CultureInfo.InvariantCulture, $"{what}: {computations} bfloat16 computation(s) of {roundings} roundings, {computations} x ({Lambda} x 2^-8 x sqrt({roundings} / 3) x rms + 2^-8 |expected|)"));
    }

    /// <summary>
    /// The forward pass (eval mode) of a network, from its state dict's keys and shapes: each weight of two or
    /// more dimensions is one reduction over its fan-in (numel / shape[0]); an attention's in_proj_weight adds
    /// two (the scores over a head's dimensions and the weighted sum over the sequence, both taken as no longer
    /// than the fan-in); a one-dimensional weight without a running_mean beside it (LayerNorm, GroupNorm)
    /// reduces over its features for its statistics. Batch norm in eval mode is elementwise.
    /// </summary>
    public static GoldenTolerance ForNetwork(IReadOnlyList<(string Key, long[] Shape)> state, string what)
    {
        var keys = state.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        var lengths = new List<long>();
        foreach (var (key, shape) in state)
        {
            if (!key.EndsWith("weight", StringComparison.Ordinal))
            {
                continue;
            }

            if (shape.Length >= 2)
            {
                var fanIn = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
                lengths.Add(fanIn);
                if (key.EndsWith("in_proj_weight", StringComparison.Ordinal))
                {
                    lengths.Add(fanIn);
                    lengths.Add(fanIn);
                }
            }
            else if (shape.Length == 1 && !keys.Contains(key[..^"weight".Length] + "running_mean"))
            {
                lengths.Add(shape[0]);
            }
        }

        return Float32Chain(lengths, what);
    }

    /// <summary>The most a value may differ from <paramref name="expected"/>, in a tensor of root mean square <paramref name="rms"/>.</summary>
    public double Allowed(double expected, double rms) => Atol + (Rtol * Math.Abs(expected)) + (ScaleRtol * rms);

    /// <summary>Whether <paramref name="actual"/> is within <see cref="Allowed"/>; NaN matches NaN, an infinity itself.</summary>
    public bool Accepts(double actual, double expected, double rms)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual))
        {
            return double.IsNaN(expected) && double.IsNaN(actual);
        }

        if (double.IsInfinity(expected) || double.IsInfinity(actual))
        {
            return expected == actual;
        }

        return Math.Abs(actual - expected) <= Allowed(expected, rms);
    }

    /// <summary>The rule with its numbers, for a failure message.</summary>
    public string Describe(double rms) => ScaleRtol == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Atol:G3} + {Rtol:G3}|expected| ({Reason})")
        : string.Create(CultureInfo.InvariantCulture, $"{Atol:G3} + {Rtol:G3}|expected| + {ScaleRtol:G3} x rms {rms:G4} ({Reason})");

    /// <summary>The root mean square of the finite values (0 when there are none).</summary>
    public static double Rms(IReadOnlyCollection<double> values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        return finite.Length == 0 ? 0 : Math.Sqrt(finite.Sum(v => v * v) / finite.Length);
    }
}
