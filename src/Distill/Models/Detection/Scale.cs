using Distill.NN;
using Distill.Torch;

namespace Distill.Models.Detection;

/// <summary>A learnable scalar that multiplies its input (FCOS's per-level Scale; one parameter "scale", init 1).</summary>
public sealed class Scale : Module<Tensor, Tensor>
{
    /// <summary>Creates the scale with its initial value.</summary>
    public Scale(double initial = 1.0) => Value = RegisterParameter("scale", Tensor.Full([1], initial))!;

    /// <summary>The parameter [1].</summary>
    public Tensor Value { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => input * Value;
}
