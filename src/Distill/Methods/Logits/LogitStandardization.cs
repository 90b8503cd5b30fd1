using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// Logit standardisation (Sun et al., CVPR 2024): each row z becomes (z - mean(z)) / (std(z) + 1e-7),
/// with the unbiased standard deviation, so a student matches the relations between logits, not their scale.
/// A switch on the logit methods; the cross-entropy keeps the raw logits.
/// See docs/methods/kd.md.
/// </summary>
public static class LogitStandardization
{
    /// <summary>The <c>logit_standardization</c> option's description (kd, dkd, ctkd, sdd).</summary>
    public const string OptionDescription = "z-score both logit vectors before the distillation term (Sun et al., CVPR 2024)";

    /// <summary>The per-row z-score of [B, K] logits.</summary>
    public static Tensor Standardize(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        var mean = logits.Mean(1, keepDim: true);
        var std = logits.Std([1], unbiased: true, keepDim: true);
        return (logits - mean) / (std + 1e-7);
    }
}
