using Distill.Torch.Interop;

namespace Distill.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>An uninitialised tensor (torch.empty).</summary>
    public static Tensor Empty(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape)
        {
            return Wrap(Native.dt_empty(s, shape.Length, (int)dtype, (int)d.Type, d.Index, out var r), r);
        }
    }

    /// <summary>A tensor filled with <paramref name="value"/> (torch.full).</summary>
    public static Tensor Full(ReadOnlySpan<long> shape, double value, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape)
        {
            return Wrap(Native.dt_full(s, shape.Length, ScalarFor(value, dtype), (int)dtype, (int)d.Type, d.Index, out var r), r);
        }
    }

    /// <summary>A tensor of zeros (torch.zeros).</summary>
    public static Tensor Zeros(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null) => Full(shape, 0, dtype, device);

    /// <summary>A tensor of ones (torch.ones).</summary>
    public static Tensor Ones(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null) => Full(shape, 1, dtype, device);

    /// <summary>Integers 0 .. end-1 as Int64 (torch.arange(end)).</summary>
    public static Tensor Arange(long end, DType dtype = DType.Int64, Device? device = null) => Arange(0, end, 1, dtype, device);

    /// <summary>Integers start, start+step, ... below end (torch.arange with integer arguments).</summary>
    public static Tensor Arange(long start, long end, long step = 1, DType dtype = DType.Int64, Device? device = null) =>
        Arange(NativeScalar.Int(start), NativeScalar.Int(end), NativeScalar.Int(step), dtype, device ?? Device.Cpu);

    /// <summary>Values start, start+step, ... below end (torch.arange with float arguments).</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32, Device? device = null) =>
        Arange(NativeScalar.Float(start), NativeScalar.Float(end), NativeScalar.Float(step), dtype, device ?? Device.Cpu);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive (torch.linspace).</summary>
    public static Tensor Linspace(double start, double end, long steps, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        return Wrap(Native.dt_linspace(start, end, steps, (int)dtype, (int)d.Type, d.Index, out var r), r);
    }

    /// <summary>An n x m matrix with ones on the diagonal (torch.eye); m defaults to n.</summary>
    public static Tensor Eye(long n, long? m = null, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        return Wrap(Native.dt_eye(n, m ?? n, (int)dtype, (int)d.Type, d.Index, out var r), r);
    }

    /// <summary>Uniform samples in [0, 1) (torch.rand), from <paramref name="generator"/> or the global stream.</summary>
    public static Tensor Rand(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null, Generator? generator = null) =>
        Random(RandomOp.Rand, shape, dtype, device, generator);

    /// <summary>Standard normal samples (torch.randn), from <paramref name="generator"/> or the global stream.</summary>
    public static Tensor Randn(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null, Generator? generator = null) =>
        Random(RandomOp.Randn, shape, dtype, device, generator);

    /// <summary>Integers uniform in [low, high) (torch.randint).</summary>
    public static Tensor RandInt(long low, long high, ReadOnlySpan<long> shape, DType dtype = DType.Int64, Device? device = null, Generator? generator = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape)
        {
            return Wrap(Native.dt_randint(low, high, s, shape.Length, (int)dtype, (int)d.Type, d.Index, Generator.HandleOf(generator), out var r), r);
        }
    }

    /// <summary>A random permutation of 0 .. n-1 (torch.randperm).</summary>
    public static Tensor RandPerm(long n, DType dtype = DType.Int64, Device? device = null, Generator? generator = null)
    {
        var d = device ?? Device.Cpu;
        return Wrap(Native.dt_randperm(n, (int)dtype, (int)d.Type, d.Index, Generator.HandleOf(generator), out var r), r);
    }

    /// <summary>Zeros with this tensor's shape, dtype and device (torch.zeros_like).</summary>
    public Tensor ZerosLike(DType? dtype = null) => Full(Shape, 0, dtype ?? DType, Device);

    /// <summary>Ones with this tensor's shape, dtype and device (torch.ones_like).</summary>
    public Tensor OnesLike(DType? dtype = null) => Full(Shape, 1, dtype ?? DType, Device);

    /// <summary>A filled tensor with this tensor's shape, dtype and device (torch.full_like).</summary>
    public Tensor FullLike(double value, DType? dtype = null) => Full(Shape, value, dtype ?? DType, Device);

    /// <summary>An uninitialised tensor with this tensor's shape, dtype and device (torch.empty_like).</summary>
    public Tensor EmptyLike(DType? dtype = null) => Empty(Shape, dtype ?? DType, Device);

    /// <summary>Uniform samples with this tensor's shape, dtype and device (torch.rand_like).</summary>
    public Tensor RandLike(Generator? generator = null) => Rand(Shape, DType, Device, generator);

    /// <summary>Normal samples with this tensor's shape, dtype and device (torch.randn_like).</summary>
    public Tensor RandnLike(Generator? generator = null) => Randn(Shape, DType, Device, generator);

    /// <summary>Fills in place with samples uniform in [from, to) (torch.Tensor.uniform_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor UniformInPlace(double from = 0, double to = 1, Generator? generator = null) => RandomFill(RandomFillOp.Uniform, from, to, generator);

    /// <summary>Fills in place with normal samples (torch.Tensor.normal_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor NormalInPlace(double mean = 0, double std = 1, Generator? generator = null) => RandomFill(RandomFillOp.Normal, mean, std, generator);

    /// <summary>Fills in place with Bernoulli(p) samples (torch.Tensor.bernoulli_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor BernoulliInPlace(double p, Generator? generator = null) => RandomFill(RandomFillOp.Bernoulli, p, 0, generator);

    /// <summary>Fills in place with integers over the dtype's range (torch.Tensor.random_() without bounds).</summary>
    /// <returns>This tensor.</returns>
    public Tensor RandomInPlace(Generator? generator = null) => RandomFill(RandomFillOp.Random, 0, 0, generator);

    internal static NativeScalar ScalarFor(double value, DType dtype) => dtype switch
    {
        DType.Bool => NativeScalar.Bool(value != 0),
        _ when dtype.IsFloatingPoint() => NativeScalar.Float(value),
        _ => NativeScalar.Int(checked((long)value)),
    };

    private static Tensor Arange(NativeScalar start, NativeScalar end, NativeScalar step, DType dtype, Device d) =>
        Wrap(Native.dt_arange(start, end, step, (int)dtype, (int)d.Type, d.Index, out var r), r);

    private static Tensor Random(RandomOp op, ReadOnlySpan<long> shape, DType dtype, Device? device, Generator? generator)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape)
        {
            return Wrap(Native.dt_random((int)op, s, shape.Length, (int)dtype, (int)d.Type, d.Index, Generator.HandleOf(generator), out var r), r);
        }
    }

    private Tensor RandomFill(RandomFillOp op, double a, double b, Generator? generator)
    {
        NativeStatus.Check(Native.dt_random_((int)op, Handle, a, b, Generator.HandleOf(generator)));
        return this;
    }
}
