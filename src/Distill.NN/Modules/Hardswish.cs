using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>x * relu6(x + 3) / 6 (torch.nn.Hardswish).</summary>
public sealed class Hardswish : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Hardswish(input);
}
