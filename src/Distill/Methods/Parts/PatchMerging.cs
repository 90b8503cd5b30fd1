using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// Swin-style merging of the patch tokens (the class token passes through unchanged): each 2×2 neighbourhood
/// concatenated (4E) → LayerNorm(4E, eps 1e-5) → Linear(4E → E, no bias) → GELU (when <c>activation</c>).
/// </summary>
internal sealed class PatchMerging : Module<Tensor, Tensor>
{
    private readonly LayerNorm _norm;
    private readonly Linear _reduction;
    private readonly GELU? _activation;

    public PatchMerging(long dim, bool activation)
    {
        _norm = RegisterModule("norm", new LayerNorm(4 * dim));
        _reduction = RegisterModule("reduction", new Linear(4 * dim, dim, bias: false));
        _activation = activation ? RegisterModule("act", new GELU()) : null;
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        var (b, l, e) = (input.Size(0), input.Size(1), input.Size(2));
        var grid = (long)Math.Floor(Math.Sqrt(l - 1));
        var cls = input.Narrow(1, 0, 1);
        var patches = input.Narrow(1, 1, grid * grid).Reshape([b, grid / 2, 2, grid / 2, 2, e]).Permute([0, 1, 3, 4, 2, 5]).Reshape([b, (grid / 2) * (grid / 2), 4 * e]);
        var merged = _reduction.Forward(_norm.Forward(patches));
        if (_activation is not null)
        {
            merged = _activation.Forward(merged);
        }

        return Tensor.Cat([cls, merged], 1);
    }
}

