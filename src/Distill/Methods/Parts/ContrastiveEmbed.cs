using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// CRD's embedding head (RepDistiller <c>Embed</c>): pooled features, flattened, through a Linear to the embedding
/// size, then L2-normalised per row. CRD registers one per network as "student_embed" and "teacher_embed" (keys
/// *.weight, *.bias).
/// </summary>
public static class ContrastiveEmbed
{
    /// <summary>The Linear from <paramref name="inputDim"/> pooled features to <paramref name="featureDim"/>.</summary>
    public static Linear Create(long inputDim, long featureDim) => new(inputDim, featureDim);

    /// <summary>normalise(linear(flatten(<paramref name="pooled"/>))): [B, D] unit rows from [B, C] or [B, C, 1, 1] features.</summary>
    public static Tensor Forward(Linear linear, Tensor pooled)
    {
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentNullException.ThrowIfNull(pooled);
        var flat = pooled.Dim == 2 ? pooled : pooled.Reshape([pooled.Size(0), -1]);
        return F.Normalize(linear.Forward(flat), dim: 1);
    }
}
