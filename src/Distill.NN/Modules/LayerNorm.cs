using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>Normalises over the trailing dimensions (torch.nn.LayerNorm): weight 1, bias 0.</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    private readonly long[] _shape;

    /// <summary>Creates the layer over the given trailing shape.</summary>
    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        _shape = (long[])normalizedShape.Clone();
        Eps = eps;
        Weight = RegisterParameter("weight", elementwiseAffine ? Tensor.Ones(_shape) : null);
        Bias = RegisterParameter("bias", elementwiseAffine ? Tensor.Zeros(_shape) : null);
    }

    /// <summary>Creates the layer over the last dimension of size <paramref name="size"/>.</summary>
    public LayerNorm(long size, double eps = 1e-5)
        : this([size], eps)
    {
    }

    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>The scale, or null.</summary>
    public Tensor? Weight { get; }

    /// <summary>The shift, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.LayerNorm(input, _shape, Weight, Bias, Eps);

    /// <inheritdoc />
    protected override string ExtraRepresentation() => $"{Tensor.FormatShape(_shape)}, eps={Eps}";
}
