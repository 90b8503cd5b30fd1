using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>The class labels of a batch.</summary>
/// <param name="Labels">Int64 [B].</param>
public sealed record ClassLabelBatch(Tensor Labels) : IBatchTargets
{
    /// <inheritdoc />
    public string Kind => "class labels";

    /// <inheritdoc />
    public long Count => Labels.Size(0);
}
