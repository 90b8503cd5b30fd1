using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// Stacks same-sized masks into Int64 [B, H, W], the class-index layout cross-entropy with ignore index 255 reads. They travel
/// to the device as UInt8 (an eighth of the bytes) and are widened there.
/// </summary>
public sealed class MaskCollator : ITargetCollator
{
    private MaskCollator()
    {
    }

    /// <summary>The collator (it holds no state).</summary>
    public static MaskCollator Instance { get; } = new();

    /// <inheritdoc />
    /// <exception cref="DataFormatException">The masks differ in size (the loader checks each against its image, and the images against the first).</exception>
    public IGatheredTargets Gather(IReadOnlyList<ITarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0)
        {
            return new Gathered([], [0, 0, 0]);
        }

        var first = (Mask)targets[0];
        var plane = first.Height * first.Width;
        var data = new byte[targets.Count * plane];
        for (var i = 0; i < targets.Count; i++)
        {
            var mask = (Mask)targets[i];
            if (mask.Height != first.Height || mask.Width != first.Width)
            {
                throw new DataFormatException($"batch item {i} has a {mask.Height}x{mask.Width} mask but the first a {first.Height}x{first.Width} one; a batch stacks masks of one size");
            }

            mask.Data.CopyTo(data, i * plane);
        }

        return new Gathered(data, [targets.Count, first.Height, first.Width]);
    }

    private sealed class Gathered(byte[] data, long[] shape) : IGatheredTargets
    {
        public IBatchTargets ToBatch(Func<Tensor, Tensor> toDevice) => new MaskBatch(toDevice(Tensor.From(data, shape)).To(DType.Int64));
    }
}
