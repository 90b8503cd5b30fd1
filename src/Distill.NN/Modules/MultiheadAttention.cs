using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>
/// Multi-head attention (torch.nn.MultiheadAttention with equal q/k/v dims): in_proj_weight [3E, E],
/// in_proj_bias [3E], out_proj (Linear E -> E); state dict keys and init as PyTorch's.
/// Forward is self-attention; <see cref="Attend"/> takes separate query, key and value.
/// </summary>
public sealed class MultiheadAttention : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; draws out_proj's default init, then xavier_uniform_ for in_proj_weight, zero biases, as PyTorch.</summary>
    public MultiheadAttention(long embedDim, long numHeads, double dropout = 0, bool bias = true, bool batchFirst = false)
    {
        if (embedDim % numHeads != 0)
        {
            throw new ArgumentException($"MultiheadAttention: embed_dim {embedDim} must divide by num_heads {numHeads}");
        }

        EmbedDim = embedDim;
        NumHeads = numHeads;
        DropoutP = dropout;
        BatchFirst = batchFirst;
        InProjWeight = RegisterParameter("in_proj_weight", Tensor.Empty([3 * embedDim, embedDim]))!;
        InProjBias = RegisterParameter("in_proj_bias", bias ? Tensor.Empty([3 * embedDim]) : null);
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias));
        Init.XavierUniform(InProjWeight);
        if (InProjBias is not null)
        {
            Init.Zeros(InProjBias);
            Init.Zeros(OutProj.Bias!);
        }
    }

    /// <summary>Model width E.</summary>
    public long EmbedDim { get; }

    /// <summary>Heads; each has E / heads dims.</summary>
    public long NumHeads { get; }

    /// <summary>Dropout on the attention weights in training.</summary>
    public double DropoutP { get; }

    /// <summary>True for [N, L, E] inputs, false for PyTorch's default [L, N, E].</summary>
    public bool BatchFirst { get; }

    /// <summary>The packed q, k, v projection.</summary>
    public Tensor InProjWeight { get; }

    /// <summary>The packed q, k, v bias, or null.</summary>
    public Tensor? InProjBias { get; }

    /// <summary>The output projection.</summary>
    public Linear OutProj { get; }

    /// <summary>Attention of query over key/value; mask as <see cref="Functional.ScaledDotProductAttention"/>.</summary>
    public Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? mask = null)
    {
        using var scope = DisposeScope.Enter();
        var (q, k, v) = BatchFirst ? (query, key, value) : (query.Transpose(0, 1), key.Transpose(0, 1), value.Transpose(0, 1));
        var weights = InProjWeight.Chunk(3, 0);
        var biases = InProjBias?.Chunk(3, 0);
        var qp = Heads(F.Linear(q, weights[0], biases?[0]));
        var kp = Heads(F.Linear(k, weights[1], biases?[1]));
        var vp = Heads(F.Linear(v, weights[2], biases?[2]));
        var attended = F.ScaledDotProductAttention(qp, kp, vp, mask, IsTraining ? DropoutP : 0);
        var n = attended.Size(0);
        var l = attended.Size(2);
        var merged = attended.Transpose(1, 2).Reshape(n, l, EmbedDim);
        var output = OutProj.Forward(merged);
        return (BatchFirst ? output : output.Transpose(0, 1)).MoveToOuterScope();
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => Attend(input, input, input);

    private Tensor Heads(Tensor x) => x.View(x.Size(0), x.Size(1), NumHeads, EmbedDim / NumHeads).Transpose(1, 2);
}
