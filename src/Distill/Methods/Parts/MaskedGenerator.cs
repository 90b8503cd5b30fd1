using Distill.NN;

namespace Distill.Methods;

/// <summary>
/// MGD's generation block (yzd-v/MGD, <c>self.generation</c>): conv 3×3 (padding 1) → ReLU → conv 3×3 (padding 1),
/// C → C with bias, PyTorch's default init; it rebuilds the teacher's map from the masked student map. MGD
/// registers it as "generation" (keys generation.0.*, generation.2.*).
/// </summary>
public static class MaskedGenerator
{
    /// <summary>The block over <paramref name="channels"/> channels.</summary>
    public static Sequential Create(long channels) =>
        new(new Conv2d(channels, channels, 3, padding: 1), new ReLU(), new Conv2d(channels, channels, 3, padding: 1));
}
