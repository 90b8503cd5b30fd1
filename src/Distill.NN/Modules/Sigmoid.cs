using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>Logistic sigmoid (torch.nn.Sigmoid).</summary>
public sealed class Sigmoid : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Sigmoid(input);
}
