using Distill.Torch.Interop;

namespace Distill.Torch;

// Operators follow Python's promotion: an integer scalar keeps an integer tensor integral, a floating
// scalar promotes it to the default float type. == and != stay reference equality; use Eq and Ne.
public sealed partial class Tensor
{
    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Binary(BinaryOp.Add, b);

    /// <summary>Adds a float scalar.</summary>
    public static Tensor operator +(Tensor a, double b) => a.BinaryScalar(BinaryOp.Add, NativeScalar.Float(b));

    /// <summary>Adds an integer scalar.</summary>
    public static Tensor operator +(Tensor a, long b) => a.BinaryScalar(BinaryOp.Add, NativeScalar.Int(b));

    /// <summary>Adds a float scalar.</summary>
    public static Tensor operator +(double a, Tensor b) => b + a;

    /// <summary>Adds an integer scalar.</summary>
    public static Tensor operator +(long a, Tensor b) => b + a;

    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Binary(BinaryOp.Sub, b);

    /// <summary>Subtracts a float scalar.</summary>
    public static Tensor operator -(Tensor a, double b) => a.BinaryScalar(BinaryOp.Sub, NativeScalar.Float(b));

    /// <summary>Subtracts an integer scalar.</summary>
    public static Tensor operator -(Tensor a, long b) => a.BinaryScalar(BinaryOp.Sub, NativeScalar.Int(b));

    /// <summary>scalar - tensor.</summary>
    public static Tensor operator -(double a, Tensor b) => b.BinaryScalar(BinaryOp.ReverseSub, NativeScalar.Float(a));

    /// <summary>scalar - tensor.</summary>
    public static Tensor operator -(long a, Tensor b) => b.BinaryScalar(BinaryOp.ReverseSub, NativeScalar.Int(a));

    /// <summary>Elementwise negation.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Binary(BinaryOp.Mul, b);

    /// <summary>Multiplies by a float scalar.</summary>
    public static Tensor operator *(Tensor a, double b) => a.BinaryScalar(BinaryOp.Mul, NativeScalar.Float(b));

    /// <summary>Multiplies by an integer scalar.</summary>
    public static Tensor operator *(Tensor a, long b) => a.BinaryScalar(BinaryOp.Mul, NativeScalar.Int(b));

    /// <summary>Multiplies by a float scalar.</summary>
    public static Tensor operator *(double a, Tensor b) => b * a;

    /// <summary>Multiplies by an integer scalar.</summary>
    public static Tensor operator *(long a, Tensor b) => b * a;

    /// <summary>Elementwise true division with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Binary(BinaryOp.Div, b);

    /// <summary>Divides by a scalar (true division).</summary>
    public static Tensor operator /(Tensor a, double b) => a.BinaryScalar(BinaryOp.Div, NativeScalar.Float(b));

    /// <summary>Divides by an integer scalar (true division, as Python's /).</summary>
    public static Tensor operator /(Tensor a, long b) => a.BinaryScalar(BinaryOp.Div, NativeScalar.Int(b));

    /// <summary>scalar / tensor.</summary>
    public static Tensor operator /(double a, Tensor b) => b.BinaryScalar(BinaryOp.ReverseDiv, NativeScalar.Float(a));

    /// <summary>Python-style modulus by a tensor.</summary>
    public static Tensor operator %(Tensor a, Tensor b) => a.Binary(BinaryOp.Remainder, b);

    /// <summary>Python-style modulus by an integer.</summary>
    public static Tensor operator %(Tensor a, long b) => a.BinaryScalar(BinaryOp.Remainder, NativeScalar.Int(b));

    /// <summary>Elementwise a &lt; b.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => a.Binary(BinaryOp.Lt, b);

    /// <summary>Elementwise a &gt; b.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.Binary(BinaryOp.Gt, b);

    /// <summary>Elementwise a &lt;= b.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => a.Binary(BinaryOp.Le, b);

    /// <summary>Elementwise a &gt;= b.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => a.Binary(BinaryOp.Ge, b);

    /// <summary>Elementwise a &lt; value.</summary>
    public static Tensor operator <(Tensor a, double b) => a.BinaryScalar(BinaryOp.Lt, NativeScalar.Float(b));

    /// <summary>Elementwise a &gt; value.</summary>
    public static Tensor operator >(Tensor a, double b) => a.BinaryScalar(BinaryOp.Gt, NativeScalar.Float(b));

    /// <summary>Elementwise a &lt;= value.</summary>
    public static Tensor operator <=(Tensor a, double b) => a.BinaryScalar(BinaryOp.Le, NativeScalar.Float(b));

    /// <summary>Elementwise a &gt;= value.</summary>
    public static Tensor operator >=(Tensor a, double b) => a.BinaryScalar(BinaryOp.Ge, NativeScalar.Float(b));

    /// <summary>Elementwise logical and of Bool tensors.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => a.LogicalAnd(b);

    /// <summary>Elementwise logical or of Bool tensors.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => a.LogicalOr(b);

    /// <summary>Elementwise logical not.</summary>
    public static Tensor operator !(Tensor a) => a.LogicalNot();

    /// <summary>base ** tensor.</summary>
    public static Tensor Pow(double @base, Tensor exponent) => exponent.BinaryScalar(BinaryOp.ReversePow, NativeScalar.Float(@base));
}
