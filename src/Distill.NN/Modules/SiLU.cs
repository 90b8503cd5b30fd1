using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>x * sigmoid(x) (torch.nn.SiLU).</summary>
public sealed class SiLU : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Silu(input);
}
