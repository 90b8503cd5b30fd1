using Distill.Torch;
using Xunit;

namespace Distill.Testing;

/// <summary>
/// What `distill check` must write for a case stored in a safetensors golden under a prefix (eng/golden/skd.py's
/// check8.* and check65.*): every output key as its float32 value of the float64 reference, and beside each under
/// "rel32." the largest deviation of the same reference run in float32, relative to the key's largest magnitude.
/// </summary>
public static class CheckOutputGolden
{
    /// <summary>The floor of the tolerance: 2e-5 of the scale, as for the other method goldens through the harness.</summary>
    public const double MinimumRtol = 2e-5;

    /// <summary>How many times the reference's own float32 deviation the check may deviate.</summary>
    public const double Float32Margin = 10;

    /// <summary>
    /// Asserts that <paramref name="output"/> holds exactly the expected keys (random.* aside: the draws the step used)
    /// and that each tensor is within rtol = max(<see cref="MinimumRtol"/>, <see cref="Float32Margin"/> x rel32) of the
    /// key's largest expected magnitude. The check computes in float32 against a float64 reference; rel32 measures how
    /// far float32 rounding moves that very output in PyTorch (outputs that cancel, as the discriminator's mean scores
    /// and its attention's gamma gradient, move most), and our kernels round differently (other reduction orders,
    /// other thread counts), so the allowance is that deviation with a margin of ten, never less than the usual floor.
    /// An analytically zero gradient (a key conv's bias under the softmax) falls under the all-zero rule of
    /// <see cref="GoldenTensor.AssertMatchesToScale"/>.
    /// </summary>
    public static void AssertMatches(IReadOnlyDictionary<string, Tensor> golden, string prefix, IReadOnlyDictionary<string, Tensor> output, string what)
    {
        ArgumentNullException.ThrowIfNull(golden);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(output);
        var rel = prefix + "rel32.";
        var expected = golden.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal) && !t.Key.StartsWith(rel, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[prefix.Length..], t => t.Value, StringComparer.Ordinal);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), output.Keys.Where(k => !k.StartsWith("random.", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        foreach (var (key, value) in expected)
        {
            var deviation = golden[rel + key].To(DType.Float64, Device.Cpu, copy: true).Item<double>();
            var reference = new GoldenTensor("float32", value.Shape, value.To(DType.Float64, Device.Cpu, copy: true).ToArray<double>());
            var zero = reference.Values.All(v => Math.Abs(v) < 1e-10);
            Assert.True(zero || deviation < 1e-4, $"{what} {key}: the golden's float32 run deviates by {deviation:G3} of the scale; an ill-conditioned case tests nothing at a float32 tolerance");
            var rtol = zero ? MinimumRtol : Math.Max(MinimumRtol, Float32Margin * deviation);
            reference.AssertMatchesToScale(output[key], $"{what} {key}", rtol);
        }
    }
}
