using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>
/// A Transformer encoder block (torch.nn.TransformerEncoderLayer): self_attn, linear1, dropout, linear2,
/// norm1, norm2, dropout1, dropout2, post-norm by default or pre-norm (ViT) with <c>normFirst</c>.
/// </summary>
public sealed class TransformerEncoderLayer : Module<Tensor, Tensor>
{
    private readonly bool _gelu;

    /// <summary>Creates the block with submodules in PyTorch's registration order (so the same seed gives the same weights).</summary>
    public TransformerEncoderLayer(long dModel, long nHead, long dimFeedforward = 2048, double dropout = 0.1, bool gelu = false,
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false)
    {
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nHead, dropout, batchFirst: batchFirst));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward));
        DropoutLayer = RegisterModule("dropout", new Dropout(dropout));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel));
        NormFirst = normFirst;
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps));
        Dropout1 = RegisterModule("dropout1", new Dropout(dropout));
        Dropout2 = RegisterModule("dropout2", new Dropout(dropout));
        _gelu = gelu;
    }

    /// <summary>The attention.</summary>
    public MultiheadAttention SelfAttn { get; }

    /// <summary>Feed-forward expansion.</summary>
    public Linear Linear1 { get; }

    /// <summary>Dropout inside the feed-forward.</summary>
    public Dropout DropoutLayer { get; }

    /// <summary>Feed-forward projection back.</summary>
    public Linear Linear2 { get; }

    /// <summary>Pre-norm (true) or post-norm.</summary>
    public bool NormFirst { get; }

    /// <summary>Whether the feed-forward activation is the exact GELU (else ReLU).</summary>
    public bool UsesGelu => _gelu;

    /// <summary>The norm around attention.</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>The norm around the feed-forward.</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>Dropout after attention.</summary>
    public Dropout Dropout1 { get; }

    /// <summary>Dropout after the feed-forward.</summary>
    public Dropout Dropout2 { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = input;
        if (NormFirst)
        {
            x = x + Dropout1.Forward(SelfAttn.Forward(Norm1.Forward(x)));
            return x + FeedForward(Norm2.Forward(x));
        }

        x = Norm1.Forward(x + Dropout1.Forward(SelfAttn.Forward(x)));
        return Norm2.Forward(x + FeedForward(x));
    }

    private Tensor FeedForward(Tensor x)
    {
        var h = Linear1.Forward(x);
        h = _gelu ? F.Gelu(h) : F.Relu(h);
        return Dropout2.Forward(Linear2.Forward(DropoutLayer.Forward(h)));
    }
}
