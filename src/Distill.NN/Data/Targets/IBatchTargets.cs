namespace Distill.NN.Data;

/// <summary>The targets of a batch as tensors: <see cref="ClassLabelBatch"/>, <see cref="MaskBatch"/>, later boxes per image.</summary>
public interface IBatchTargets
{
    /// <summary>A short name of the kind, for messages ("class labels", "masks").</summary>
    string Kind { get; }

    /// <summary>Samples in the batch.</summary>
    long Count { get; }
}
