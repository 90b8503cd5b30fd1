using Distill.Torch.Interop;

namespace Distill.Torch;

public static partial class Functional
{
    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor input) => input.Unary(UnaryOp.Relu);

    /// <summary>min(max(x, 0), 6).</summary>
    public static Tensor Relu6(Tensor input) => input.Unary(UnaryOp.Relu6);

    /// <summary>x for x &gt;= 0, slope * x otherwise (F.leaky_relu).</summary>
    public static Tensor LeakyRelu(Tensor input, double negativeSlope = 0.01) =>
        Tensor.Wrap(Native.dt_leaky_relu(input.Handle, negativeSlope, out var r), r);

    /// <summary>GELU, exact (erf) or with the tanh approximation (F.gelu(approximate=...)).</summary>
    public static Tensor Gelu(Tensor input, bool tanhApproximation = false) => input.Unary(tanhApproximation ? UnaryOp.GeluTanh : UnaryOp.Gelu);

    /// <summary>x * sigmoid(x) (F.silu).</summary>
    public static Tensor Silu(Tensor input) => input.Unary(UnaryOp.Silu);

    /// <summary>x * relu6(x + 3) / 6 (F.hardswish).</summary>
    public static Tensor Hardswish(Tensor input) => input.Unary(UnaryOp.Hardswish);

    /// <summary>relu6(x + 3) / 6 (F.hardsigmoid).</summary>
    public static Tensor Hardsigmoid(Tensor input) => input.Unary(UnaryOp.Hardsigmoid);

    /// <summary>Logistic sigmoid.</summary>
    public static Tensor Sigmoid(Tensor input) => input.Sigmoid();

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor input) => input.Tanh();

    /// <summary>exp(x) / sum(exp(x)) along dim (F.softmax).</summary>
    public static Tensor Softmax(Tensor input, long dim) => Tensor.Wrap(Native.dt_softmax((int)SoftmaxOp.Softmax, input.Handle, dim, out var r), r);

    /// <summary>log(softmax(x)) along dim, computed stably (F.log_softmax).</summary>
    public static Tensor LogSoftmax(Tensor input, long dim) => Tensor.Wrap(Native.dt_softmax((int)SoftmaxOp.LogSoftmax, input.Handle, dim, out var r), r);
}
