using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// Gathers a batch of <see cref="Boxes"/> into a <see cref="BoxBatch"/>: per image Float32 [N_i, 4] boxes, Int64 labels,
/// Bool crowd flags and Float32 areas, and each image's size from its boxes' canvas. The loader stacks images of one size
/// (it does not pad to the largest), so every image of a batch has the same size here.
/// </summary>
public sealed class BoxCollator : ITargetCollator
{
    private BoxCollator()
    {
    }

    /// <summary>The collator (it holds no state).</summary>
    public static BoxCollator Instance { get; } = new();

    /// <inheritdoc />
    public IGatheredTargets Gather(IReadOnlyList<ITarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var images = new Image[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            var boxes = (Boxes)targets[i];
            images[i] = new Image([.. boxes.Coordinates], [.. boxes.Labels.Select(l => (long)l)], [.. boxes.Crowd], [.. boxes.Areas], boxes.Height, boxes.Width);
        }

        return new Gathered(images);
    }

    private sealed record Image(float[] Coordinates, long[] Labels, bool[] Crowd, float[] Areas, int Height, int Width);

    private sealed class Gathered(Image[] images) : IGatheredTargets
    {
        public IBatchTargets ToBatch(Func<Tensor, Tensor> toDevice) => new BoxBatch(
            [.. images.Select(i => toDevice(Tensor.From(i.Coordinates, i.Labels.Length, 4)))],
            [.. images.Select(i => toDevice(Tensor.From(i.Labels, i.Labels.Length)))],
            [.. images.Select(i => toDevice(Tensor.From(i.Crowd, i.Crowd.Length)))],
            [.. images.Select(i => toDevice(Tensor.From(i.Areas, i.Areas.Length)))],
            [.. images.Select(i => (i.Height, i.Width))]);
    }
}
