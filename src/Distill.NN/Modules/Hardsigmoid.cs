using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>relu6(x + 3) / 6 (torch.nn.Hardsigmoid).</summary>
public sealed class Hardsigmoid : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Hardsigmoid(input);
}
