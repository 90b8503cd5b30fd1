using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>A batch on the training thread: images [B, C, H, W] Float32, the targets (stacked by their kind's collator), data-set indices [B] Int64.</summary>
/// <param name="Images">The images.</param>
/// <param name="Targets">The targets: <see cref="ClassLabelBatch"/>, <see cref="MaskBatch"/>, ...</param>
/// <param name="Indices">Each sample's index in the data set.</param>
public sealed record Batch(Tensor Images, IBatchTargets Targets, Tensor Indices)
{
    /// <summary>A batch of class-labelled images.</summary>
    /// <param name="images">The images.</param>
    /// <param name="labels">The class labels, Int64 [B].</param>
    /// <param name="indices">Each sample's index in the data set.</param>
    public Batch(Tensor images, Tensor labels, Tensor indices)
        : this(images, new ClassLabelBatch(labels), indices)
    {
    }

    /// <summary>Which recorded draw each sample replayed, Int64 [B] on the host (a loader with <see cref="DataLoader.RecordedDraws"/>); else null.</summary>
    public Tensor? Draws { get; init; }

    /// <summary>Samples in the batch.</summary>
    public long Size => Images.Size(0);

    /// <summary>The class labels, Int64 [B], of a batch of class-labelled images.</summary>
    /// <exception cref="InvalidOperationException">The batch carries another kind of target.</exception>
    public Tensor Labels => Targets is ClassLabelBatch labels ? labels.Labels
        : throw new InvalidOperationException($"this batch carries {Targets.Kind}, not class labels");
}
