using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>A lookup table (torch.nn.Embedding): weight N(0, 1), the padding row zero and frozen.</summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    /// <summary>Creates the table.</summary>
    public Embedding(long numEmbeddings, long embeddingDim, long? paddingIndex = null)
    {
        if (paddingIndex is { } p && (p >= numEmbeddings || p < -numEmbeddings))
        {
            throw new ArgumentOutOfRangeException(nameof(paddingIndex), p, $"padding index must be within the {numEmbeddings} embeddings");
        }

        PaddingIndex = paddingIndex is { } q && q < 0 ? numEmbeddings + q : paddingIndex;
        Weight = RegisterParameter("weight", Tensor.Empty([numEmbeddings, embeddingDim]))!;
        Init.Normal(Weight);
        if (PaddingIndex is { } row)
        {
            using var scope = DisposeScope.Enter();
            using var _ = Autograd.NoGrad();
            Weight.Select(0, row).FillInPlace(0);
        }
    }

    /// <summary>The row that gets no gradient, or null.</summary>
    public long? PaddingIndex { get; }

    /// <summary>The table [num_embeddings, embedding_dim].</summary>
    public Tensor Weight { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Embedding(input, Weight, PaddingIndex);
}
