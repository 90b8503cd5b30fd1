using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>The masks of a batch.</summary>
/// <param name="Masks">Int64 [B, H, W]: a class per pixel, <see cref="Mask.Ignore"/> where no class counts.</param>
public sealed record MaskBatch(Tensor Masks) : IBatchTargets
{
    /// <inheritdoc />
    public string Kind => "masks";

    /// <inheritdoc />
    public long Count => Masks.Size(0);
}
