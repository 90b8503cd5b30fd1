using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>timm's Attention (qkv_bias False): multi-head self-attention, scale applied to q kᵀ.</summary>
internal sealed class VisionAttention : Module<Tensor, Tensor>
{
    private readonly Linear _qkv;
    private readonly Linear _proj;
    private readonly long _heads;

    public VisionAttention(long dim, long heads)
    {
        if (dim % heads != 0)
        {
            throw new ArgumentException($"ofa: the projector width {dim} is not divisible by its {heads} attention heads");
        }

        _heads = heads;
        _qkv = RegisterModule("qkv", new Linear(dim, 3 * dim, bias: false));
        _proj = RegisterModule("proj", new Linear(dim, dim));
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        var (b, n, c) = (input.Size(0), input.Size(1), input.Size(2));
        var qkv = _qkv.Forward(input).Reshape([b, n, 3, _heads, c / _heads]).Permute([2, 0, 3, 1, 4]);
        var (q, k, v) = (qkv.Select(0, 0), qkv.Select(0, 1), qkv.Select(0, 2));
        var weights = F.Softmax(q.Matmul(k.Transpose(-2, -1)) * Math.Pow(c / _heads, -0.5), -1);
        return _proj.Forward(weights.Matmul(v).Transpose(1, 2).Reshape([b, n, c]));
    }
}

