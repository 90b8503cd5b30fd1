using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>Small feature-map helpers the feature methods share.</summary>
public static class FeatureOps
{
    /// <summary>Adaptive-average-pools the spatially larger of two [B, C, H, W] maps to the other's size.</summary>
    public static (Tensor A, Tensor B) MatchSpatial(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (ha, wa, hb, wb) = (a.Size(2), a.Size(3), b.Size(2), b.Size(3));
        if (ha == hb && wa == wb)
        {
            return (a, b);
        }

        return ha * wa > hb * wb ? (F.AdaptiveAvgPool2d(a, (hb, wb)), b) : (a, F.AdaptiveAvgPool2d(b, (ha, wa)));
    }

    /// <summary>Throws unless a map is 4-D [B, C, H, W]; names the method and tap.</summary>
    /// <exception cref="ArgumentException">The shape is not 4-D.</exception>
    public static long[] RequireMap(long[] shape, string method, string side, string tap)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return shape.Length == 4
            ? shape
            : throw new ArgumentException($"{method}: the {side} tap '{tap}' has shape {Tensor.FormatShape(shape)}; a feature map [B, C, H, W] is needed");
    }

    /// <summary>The taps a method was given, or every stage output when the list is empty.</summary>
    /// <exception cref="ArgumentException">The network has no stage taps.</exception>
    public static IReadOnlyList<string> TapsOrStages(IReadOnlyList<string> taps, IReadOnlyList<string> stages, string method) =>
        taps.Count > 0 ? taps
        : stages.Count > 0 ? stages
        : throw new ArgumentException($"{method}: the student publishes no stage taps; name the taps to use");

    /// <summary>The tap a method was given, or the last stage output when it is empty.</summary>
    /// <exception cref="ArgumentException">The network has no stage taps.</exception>
    public static string TapOrLastStage(string tap, IReadOnlyList<string> stages, string method) =>
        tap.Length > 0 ? tap : TapsOrStages([], stages, method)[^1];

    /// <summary>The 0-based index of a stage tap ("stage2" -> 1).</summary>
    /// <exception cref="ArgumentException">The tap is not stage1, stage2, ...</exception>
    public static int StageIndex(string stage) =>
        stage is not null && stage.StartsWith("stage", StringComparison.Ordinal) && int.TryParse(stage.AsSpan(5), out var n) && n >= 1
            ? n - 1
            : throw new ArgumentException($"'{stage}' is not a stage tap (stage1, stage2, ...)");
}
