using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>max(x, 0) (torch.nn.ReLU).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Relu(input);
}
