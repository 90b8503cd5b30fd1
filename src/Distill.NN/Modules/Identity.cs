using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>Returns its input (torch.nn.Identity).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => input;
}
