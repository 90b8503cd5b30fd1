using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>x for x &gt;= 0, slope * x otherwise (torch.nn.LeakyReLU).</summary>
/// <param name="negativeSlope">The slope below zero.</param>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Module<Tensor, Tensor>
{
    /// <summary>The slope below zero.</summary>
    public double NegativeSlope => negativeSlope;

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.LeakyRelu(input, negativeSlope);
}
