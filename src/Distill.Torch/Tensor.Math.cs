using Distill.Torch.Interop;

namespace Distill.Torch;

public sealed unsafe partial class Tensor
{
    private static readonly NativeScalar One = NativeScalar.Int(1);

    /// <summary>this + alpha * other, broadcasting (torch.add).</summary>
    public Tensor Add(Tensor other, double alpha = 1) => Binary(BinaryOp.Add, other, Alpha(alpha));

    /// <summary>this - alpha * other, broadcasting (torch.sub).</summary>
    public Tensor Sub(Tensor other, double alpha = 1) => Binary(BinaryOp.Sub, other, Alpha(alpha));

    /// <summary>Elementwise product (torch.mul).</summary>
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, other);

    /// <summary>Elementwise true division (torch.div).</summary>
    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, other);

    /// <summary>Elementwise power (torch.pow).</summary>
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, exponent);

    /// <summary>this ** exponent (torch.pow with a float exponent).</summary>
    public Tensor Pow(double exponent) => BinaryScalar(BinaryOp.Pow, NativeScalar.Float(exponent));

    /// <summary>this ** exponent (torch.pow with an integer exponent).</summary>
    public Tensor Pow(long exponent) => BinaryScalar(BinaryOp.Pow, NativeScalar.Int(exponent));

    /// <summary>Elementwise minimum (torch.minimum).</summary>
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Minimum, other);

    /// <summary>Elementwise maximum (torch.maximum).</summary>
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Maximum, other);

    /// <summary>Matrix product with PyTorch's broadcasting rules for 1-d to n-d operands (torch.matmul).</summary>
    public Tensor Matmul(Tensor other) => Binary(BinaryOp.Matmul, other);

    /// <summary>Batched matrix product of [B, n, m] and [B, m, p] (torch.bmm).</summary>
    public Tensor Bmm(Tensor other) => Binary(BinaryOp.Bmm, other);

    /// <summary>Elementwise ==, as a Bool tensor (torch.eq).</summary>
    public Tensor Eq(Tensor other) => Binary(BinaryOp.Eq, other);

    /// <summary>Elementwise == against a value.</summary>
    public Tensor Eq(double value) => BinaryScalar(BinaryOp.Eq, ScalarFor(value, DType));

    /// <summary>Elementwise !=, as a Bool tensor (torch.ne).</summary>
    public Tensor Ne(Tensor other) => Binary(BinaryOp.Ne, other);

    /// <summary>Elementwise != against a value.</summary>
    public Tensor Ne(double value) => BinaryScalar(BinaryOp.Ne, ScalarFor(value, DType));

    /// <summary>Elementwise logical and (torch.logical_and).</summary>
    public Tensor LogicalAnd(Tensor other) => Binary(BinaryOp.LogicalAnd, other);

    /// <summary>Elementwise logical or (torch.logical_or).</summary>
    public Tensor LogicalOr(Tensor other) => Binary(BinaryOp.LogicalOr, other);

    /// <summary>Python-style modulus, with the divisor's sign (torch.remainder).</summary>
    public Tensor Remainder(Tensor other) => Binary(BinaryOp.Remainder, other);

    /// <summary>Division rounded towards negative infinity (torch.floor_divide, //).</summary>
    public Tensor FloorDivide(Tensor other) => Binary(BinaryOp.FloorDivide, other);

    /// <summary>Division by a value, rounded towards negative infinity.</summary>
    public Tensor FloorDivide(long value) => BinaryScalar(BinaryOp.FloorDivide, NativeScalar.Int(value));

    /// <summary>Elementwise atan2(this, other).</summary>
    public Tensor Atan2(Tensor other) => Binary(BinaryOp.Atan2, other);

    /// <summary>-x.</summary>
    public Tensor Neg() => Unary(UnaryOp.Neg);

    /// <summary>|x|.</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs);

    /// <summary>e^x.</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp);

    /// <summary>e^x - 1, accurate near 0.</summary>
    public Tensor Expm1() => Unary(UnaryOp.Expm1);

    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => Unary(UnaryOp.Log);

    /// <summary>Base-2 logarithm.</summary>
    public Tensor Log2() => Unary(UnaryOp.Log2);

    /// <summary>log(1 + x), accurate near 0.</summary>
    public Tensor Log1p() => Unary(UnaryOp.Log1p);

    /// <summary>Square root.</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);

    /// <summary>1 / sqrt(x).</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);

    /// <summary>x * x.</summary>
    public Tensor Square() => Unary(UnaryOp.Square);

    /// <summary>1 / x.</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);

    /// <summary>Logistic sigmoid.</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);

    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh);

    /// <summary>-1, 0 or 1 by sign.</summary>
    public Tensor Sign() => Unary(UnaryOp.Sign);

    /// <summary>Sine.</summary>
    public Tensor Sin() => Unary(UnaryOp.Sin);

    /// <summary>Cosine.</summary>
    public Tensor Cos() => Unary(UnaryOp.Cos);

    /// <summary>Gauss error function.</summary>
    public Tensor Erf() => Unary(UnaryOp.Erf);

    /// <summary>Rounds down.</summary>
    public Tensor Floor() => Unary(UnaryOp.Floor);

    /// <summary>Rounds up.</summary>
    public Tensor Ceil() => Unary(UnaryOp.Ceil);

    /// <summary>Rounds half to even, as torch.round.</summary>
    public Tensor Round() => Unary(UnaryOp.Round);

    /// <summary>Elementwise not, as a Bool tensor.</summary>
    public Tensor LogicalNot() => Unary(UnaryOp.LogicalNot);

    /// <summary>True where the element is NaN.</summary>
    public Tensor IsNan() => Unary(UnaryOp.IsNan);

    /// <summary>True where the element is neither infinite nor NaN.</summary>
    public Tensor IsFinite() => Unary(UnaryOp.IsFinite);

    /// <summary>Clamps into [min, max]; a null bound is open (torch.clamp).</summary>
    /// <exception cref="ArgumentException">Both bounds are null.</exception>
    public Tensor Clamp(double? min = null, double? max = null) => ClampCore(min, max, inPlace: false);

    /// <summary>max(x, min) (torch.clamp_min).</summary>
    public Tensor ClampMin(double min) => Clamp(min, null);

    /// <summary>min(x, max) (torch.clamp_max).</summary>
    public Tensor ClampMax(double max) => Clamp(null, max);

    /// <summary>Einstein summation over the operands (torch.einsum), e.g. "bij,bjk->bik".</summary>
    public static Tensor Einsum(string equation, params ReadOnlySpan<Tensor> operands)
    {
        ArgumentNullException.ThrowIfNull(equation);
        using var list = new HandleList(operands);
        return Wrap(Native.dt_einsum(equation, list.Pointer, list.Count, out var r), r);
    }

    // ---- in place (optimizers) ----

    /// <summary>this += alpha * other (torch.Tensor.add_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor AddInPlace(Tensor other, double alpha = 1) => BinaryInPlace(BinaryInPlaceOp.Add, other, Alpha(alpha));

    /// <summary>this += value.</summary>
    /// <returns>This tensor.</returns>
    public Tensor AddInPlace(double value) => BinaryScalarInPlace(BinaryInPlaceOp.Add, ScalarFor(value, DType));

    /// <summary>this -= alpha * other (torch.Tensor.sub_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor SubInPlace(Tensor other, double alpha = 1) => BinaryInPlace(BinaryInPlaceOp.Sub, other, Alpha(alpha));

    /// <summary>this *= other (torch.Tensor.mul_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor MulInPlace(Tensor other) => BinaryInPlace(BinaryInPlaceOp.Mul, other, One);

    /// <summary>this *= value.</summary>
    /// <returns>This tensor.</returns>
    public Tensor MulInPlace(double value) => BinaryScalarInPlace(BinaryInPlaceOp.Mul, ScalarFor(value, DType));

    /// <summary>this /= other (torch.Tensor.div_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor DivInPlace(Tensor other) => BinaryInPlace(BinaryInPlaceOp.Div, other, One);

    /// <summary>this /= value.</summary>
    /// <returns>This tensor.</returns>
    public Tensor DivInPlace(double value) => BinaryScalarInPlace(BinaryInPlaceOp.Div, NativeScalar.Float(value));

    /// <summary>this = max(this, other) elementwise, in place.</summary>
    /// <returns>This tensor.</returns>
    public Tensor MaximumInPlace(Tensor other) => BinaryInPlace(BinaryInPlaceOp.Maximum, other, One);

    /// <summary>Copies source's values (broadcast, converted) into this tensor (torch.Tensor.copy_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor CopyFrom(Tensor source) => BinaryInPlace(BinaryInPlaceOp.Copy, source, One);

    /// <summary>this += value * t1 * t2 (torch.Tensor.addcmul_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor AddCMulInPlace(Tensor t1, Tensor t2, double value = 1) => Ternary(TernaryInPlaceOp.AddCMul, t1, t2, value);

    /// <summary>this += value * t1 / t2 (torch.Tensor.addcdiv_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor AddCDivInPlace(Tensor t1, Tensor t2, double value = 1) => Ternary(TernaryInPlaceOp.AddCDiv, t1, t2, value);

    /// <summary>this += weight * (end - this) (torch.Tensor.lerp_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor LerpInPlace(Tensor end, double weight)
    {
        NativeStatus.Check(Native.dt_lerp_(Handle, end.Handle, TensorHandle.Null, NativeScalar.Float(weight)));
        return this;
    }

    /// <summary>this += weight * (end - this) with a tensor weight.</summary>
    /// <returns>This tensor.</returns>
    public Tensor LerpInPlace(Tensor end, Tensor weight)
    {
        NativeStatus.Check(Native.dt_lerp_(Handle, end.Handle, weight.Handle, One));
        return this;
    }

    /// <summary>Sets every element to zero (torch.Tensor.zero_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor ZeroInPlace() => UnaryInPlace(UnaryInPlaceOp.Zero);

    /// <summary>Sets every element to value (torch.Tensor.fill_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor FillInPlace(double value)
    {
        NativeStatus.Check(Native.dt_fill_(Handle, ScalarFor(value, DType)));
        return this;
    }

    /// <summary>max(x, 0) in place.</summary>
    /// <returns>This tensor.</returns>
    public Tensor ReluInPlace() => UnaryInPlace(UnaryInPlaceOp.Relu);

    /// <summary>sqrt(x) in place.</summary>
    /// <returns>This tensor.</returns>
    public Tensor SqrtInPlace() => UnaryInPlace(UnaryInPlaceOp.Sqrt);

    /// <summary>-x in place.</summary>
    /// <returns>This tensor.</returns>
    public Tensor NegInPlace() => UnaryInPlace(UnaryInPlaceOp.Neg);

    /// <summary>Clamps into [min, max] in place (torch.Tensor.clamp_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor ClampInPlace(double? min = null, double? max = null)
    {
        ClampCore(min, max, inPlace: true);
        return this;
    }

    // An alpha of exactly 1 travels as an integer, so integer tensors accept it (as torch.add(a, b) does).
    private static NativeScalar Alpha(double alpha) => alpha == 1 ? One : NativeScalar.Float(alpha);

    internal Tensor Unary(UnaryOp op) => Wrap(Native.dt_unary((int)op, Handle, out var r), r);

    private Tensor UnaryInPlace(UnaryInPlaceOp op)
    {
        NativeStatus.Check(Native.dt_unary_((int)op, Handle));
        return this;
    }

    private Tensor Binary(BinaryOp op, Tensor other) => Binary(op, other, One);

    private Tensor Binary(BinaryOp op, Tensor other, NativeScalar alpha)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Wrap(Native.dt_binary((int)op, Handle, other.Handle, alpha, out var r), r);
    }

    private Tensor BinaryScalar(BinaryOp op, NativeScalar value) => Wrap(Native.dt_binary_scalar((int)op, Handle, value, out var r), r);

    private Tensor BinaryInPlace(BinaryInPlaceOp op, Tensor other, NativeScalar alpha)
    {
        ArgumentNullException.ThrowIfNull(other);
        NativeStatus.Check(Native.dt_binary_((int)op, Handle, other.Handle, alpha));
        return this;
    }

    private Tensor BinaryScalarInPlace(BinaryInPlaceOp op, NativeScalar value)
    {
        NativeStatus.Check(Native.dt_binary_scalar_((int)op, Handle, value));
        return this;
    }

    private Tensor Ternary(TernaryInPlaceOp op, Tensor t1, Tensor t2, double value)
    {
        NativeStatus.Check(Native.dt_ternary_((int)op, Handle, t1.Handle, t2.Handle, NativeScalar.Float(value)));
        return this;
    }

    private Tensor ClampCore(double? min, double? max, bool inPlace)
    {
        if (min is null && max is null)
        {
            throw new ArgumentException("clamp needs at least one of min and max");
        }

        var dtype = DType;
        var lo = min is { } a ? ScalarFor(a, dtype.IsFloatingPoint() ? dtype : DType.Float64) : default;
        var hi = max is { } b ? ScalarFor(b, dtype.IsFloatingPoint() ? dtype : DType.Float64) : default;
        var status = Native.dt_clamp(Handle, min is null ? 0 : 1, lo, max is null ? 0 : 1, hi, inPlace ? 1 : 0, out var r);
        if (inPlace)
        {
            NativeStatus.Check(status);
            return this;
        }

        return Wrap(status, r);
    }
}
