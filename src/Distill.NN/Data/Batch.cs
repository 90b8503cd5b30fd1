using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>A batch on the training thread: images [B, C, H, W] Float32, labels [B] Int64, data-set indices [B] Int64.</summary>
/// <param name="Images">The images.</param>
/// <param name="Labels">The class labels.</param>
/// <param name="Indices">Each sample's index in the data set.</param>
public sealed record Batch(Tensor Images, Tensor Labels, Tensor Indices)
{
    /// <summary>Samples in the batch.</summary>
    public long Size => Labels.Size(0);
}
