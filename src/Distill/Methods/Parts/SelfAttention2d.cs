using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// SAGAN's self-attention block as Structured KD's discriminator uses it (irfanICMLL/structure_knowledge_distillation,
/// <c>networks/sagan_models.py</c> Self_Attn): 1×1 convs query and key to C/8 channels and value to C; over the N = H·W
/// positions, energy = qᵀk [B, N, N], attention = softmax over the last axis, out = v·attentionᵀ reshaped to [B, C, H, W];
/// the result is γ·out + x with the learnable scalar γ initialised to 0 (the block starts as the identity). Keys:
/// query_conv.*, key_conv.*, value_conv.*, gamma (the official names).
/// </summary>
public sealed class SelfAttention2d : Module<Tensor, Tensor>
{
    private readonly Conv2d _query;
    private readonly Conv2d _key;
    private readonly Conv2d _value;

    /// <summary>Creates the block for <paramref name="channels"/> channels (at least 8: query and key have C/8).</summary>
    public SelfAttention2d(long channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 8);
        Channels = channels;
        _query = RegisterModule("query_conv", new Conv2d(channels, channels / 8, 1));
        _key = RegisterModule("key_conv", new Conv2d(channels, channels / 8, 1));
        _value = RegisterModule("value_conv", new Conv2d(channels, channels, 1));
        Gamma = RegisterParameter("gamma", Tensor.Zeros([1]))!;
    }

    /// <summary>C.</summary>
    public long Channels { get; }

    /// <summary>γ, the weight of the attention's output (0 at creation).</summary>
    public Tensor Gamma { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var (b, c, h, w) = (input.Size(0), input.Size(1), input.Size(2), input.Size(3));
        var query = _query.Forward(input).View(b, -1, h * w).Permute(0, 2, 1);
        var key = _key.Forward(input).View(b, -1, h * w);
        var attention = F.Softmax(query.Bmm(key), -1);
        var value = _value.Forward(input).View(b, -1, h * w);
        var output = value.Bmm(attention.Permute(0, 2, 1)).View(b, c, h, w);
        return (Gamma * output) + input;
    }
}
