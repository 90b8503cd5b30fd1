using Distill.Torch;

namespace Distill.NN;

/// <summary>
/// Zeroes whole channels of a [N, C, H, W] map with probability p in training and scales the kept ones by 1/(1-p)
/// (torch.nn.Dropout2d). As libtorch's feature dropout, one Bernoulli(1-p) draw per sample and channel from the
/// global generator, in the same order, so a seeded run draws the channels PyTorch draws.
/// </summary>
public sealed class Dropout2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public Dropout2d(double p = 0.5)
    {
        if (p is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
        }

        P = p;
    }

    /// <summary>The probability of dropping a channel.</summary>
    public double P { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        if (!IsTraining || P == 0)
        {
            return input.Alias();
        }

        var shape = input.Shape;
        // PyTorch 1.13 reads a 3-d input as an unbatched [C, H, W] one or not depending on the call; only [N, C, H, W] here.
        if (shape.Length != 4)
        {
            throw new ArgumentException($"Dropout2d expects an [N, C, H, W] input; got shape {Tensor.FormatShape(shape)}");
        }

        if (P == 1)
        {
            return input * 0.0;
        }

        using var noise = Tensor.Empty([shape[0], shape[1], 1, 1], input.DType, input.Device).BernoulliInPlace(1 - P).DivInPlace(1 - P);
        return input * noise;
    }

    /// <inheritdoc />
    protected override string ExtraRepresentation() => $"p={P}";
}
