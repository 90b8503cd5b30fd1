using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>GELU, exact or tanh-approximated (torch.nn.GELU).</summary>
/// <param name="tanhApproximation">PyTorch's approximate="tanh".</param>
public sealed class GELU(bool tanhApproximation = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Gelu(input, tanhApproximation);
}
