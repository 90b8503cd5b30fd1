using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>Zeroes elements with probability p in training and scales the rest by 1/(1-p) (torch.nn.Dropout).</summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public Dropout(double p = 0.5)
    {
        if (p is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
        }

        P = p;
    }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Dropout(input, P, IsTraining);

    /// <inheritdoc />
    protected override string ExtraRepresentation() => $"p={P}";
}
