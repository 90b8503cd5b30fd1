using System.Numerics;
using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// Structured KD's holistic discriminator on score maps [B, K, H, W] (irfanICMLL/structure_knowledge_distillation,
/// <c>networks/sagan_models.py</c> Discriminator with preprocess_GAN_mode 1): BatchNorm2d(K) on the input (in training
/// mode each call normalises its own batch), then n stride-2 4×4 spectral-norm convs with padding 1
/// (<see cref="SpectralNormConv2d"/>; channels conv_dim·2^i, each followed by LeakyReLU(0.1)), self-attention blocks
/// (<see cref="SelfAttention2d"/>) and a final 4×4 convolution to one channel without padding or spectral norm.
/// For 65×65 maps n = 4 and the layout is the official one (65 → 32 → 16 → 8 → 4 → 1, attention after the 3rd and 4th
/// conv). The official module needs 65×65 input; for other sizes S = min(H, W), n = max(1, ⌊log₂ S⌋ − 2) and one
/// attention block follows the last stride-2 conv (8×8: 8 → 4 → 1×1). Keys follow the official names:
/// preprocess_additional.*, l1.0.* .. ln.0.* (weight_bar, bias, weight_u, weight_v), attn1.*, attn2.*, last.0.*.
/// Parameters are created in the official order (the convs, the last conv, the attention blocks, the batch norm).
/// </summary>
public sealed class ScoreMapDiscriminator : Module<Tensor, Tensor>
{
    private readonly Sequential[] _layers;
    private readonly Sequential _last;
    private readonly SelfAttention2d?[] _attentionAfter;
    private readonly BatchNorm2d _input;

    /// <summary>Creates the discriminator for K-channel maps of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="classes">K, the input channels.</param>
    /// <param name="height">The maps' height.</param>
    /// <param name="width">The maps' width.</param>
    /// <param name="convDim">The first conv's channels (64 in the official code; at least 8).</param>
    /// <exception cref="ArgumentException">The maps are smaller than 8×8 or the sizes are not positive.</exception>
    public ScoreMapDiscriminator(long classes, long height, long width, long convDim = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(convDim, 8);
        var size = Math.Min(height, width);
        if (size < 8)
        {
            throw new ArgumentException($"the holistic discriminator needs score maps of at least 8x8 (its stride-2 convs and final 4x4 conv); these are {height}x{width}");
        }

        Official = height == 65 && width == 65;
        var n = Math.Max(1, BitOperations.Log2((ulong)size) - 2); // 65: 4, as the official layout
        _layers = new Sequential[n];
        var channels = classes;
        for (var i = 0; i < n; i++)
        {
            var next = convDim << i;
            _layers[i] = RegisterModule($"l{i + 1}", new Sequential(new SpectralNormConv2d(channels, next, 4, 2, 1), new LeakyReLU(0.1)));
            channels = next;
        }

        _last = RegisterModule("last", new Sequential(new Conv2d(channels, 1, 4)));
        _attentionAfter = new SelfAttention2d?[n];
        int[] after = Official ? [2, 3] : [n - 1];
        for (var a = 0; a < after.Length; a++)
        {
            _attentionAfter[after[a]] = RegisterModule($"attn{a + 1}", new SelfAttention2d(convDim << after[a]));
        }

        _input = RegisterModule("preprocess_additional", new BatchNorm2d(classes));
        Classes = classes;
        Layers = n;
    }

    /// <summary>K.</summary>
    public long Classes { get; }

    /// <summary>n, the stride-2 spectral-norm convs.</summary>
    public int Layers { get; }

    /// <summary>Whether the layout is the official 65×65 one (two attention blocks).</summary>
    public bool Official { get; }

    /// <summary>The spectral-norm convs in order.</summary>
    public IReadOnlyList<SpectralNormConv2d> Convs => [.. _layers.Select(l => (SpectralNormConv2d)l[0])];

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = _input.Forward(input);
        for (var i = 0; i < _layers.Length; i++)
        {
            x = _layers[i].Forward(x);
            if (_attentionAfter[i] is { } attention)
            {
                x = attention.Forward(x);
            }
        }

        return _last.Forward(x);
    }
}
