using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// timm's (0.6.5) vision-transformer Block with its defaults: x + attn(norm1(x)), then + mlp(norm2(x)); LayerNorm eps
/// 1e-5; attention with q/k/v from one Linear without bias, (q kᵀ)·d_head^−½, softmax, and a projection with bias;
/// MLP Linear(dim → 4 dim) → exact GELU → Linear(4 dim → dim). No dropout, drop-path or layer scale.
/// </summary>
internal sealed class VisionBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm _norm1;
    private readonly VisionAttention _attention;
    private readonly LayerNorm _norm2;
    private readonly VisionMlp _mlp;

    public VisionBlock(long dim, long heads)
    {
        _norm1 = RegisterModule("norm1", new LayerNorm(dim));
        _attention = RegisterModule("attn", new VisionAttention(dim, heads));
        _norm2 = RegisterModule("norm2", new LayerNorm(dim));
        _mlp = RegisterModule("mlp", new VisionMlp(dim, 4 * dim));
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        var x = input + _attention.Forward(_norm1.Forward(input));
        return x + _mlp.Forward(_norm2.Forward(x));
    }
}

