using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>min(max(x, 0), 6) (torch.nn.ReLU6).</summary>
public sealed class ReLU6 : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Relu6(input);
}
