using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>
/// A libtorch tensor. Semantics are PyTorch's (broadcasting, type promotion, views, autograd); names are
/// .NET's. A tensor owns native memory: dispose it, or create it inside a <see cref="DisposeScope"/>.
/// Operations are split by family over the partial files Tensor.*.cs.
/// </summary>
public sealed unsafe partial class Tensor : IDisposable
{
    private const int MaxDims = 64;
    private readonly TensorHandle _handle;

    internal Tensor(IntPtr handle)
    {
        _handle = new TensorHandle(handle);
        DisposeScope.Current?.Add(this);
    }

    /// <summary>The dispose scope that will dispose this tensor, or null when the caller owns it.</summary>
    public DisposeScope? Scope { get; internal set; }

    internal TensorHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle;
        }
    }

    /// <summary>True once disposed; any further use throws <see cref="ObjectDisposedException"/>.</summary>
    public bool IsDisposed => _handle.IsClosed;

    /// <summary>The element type.</summary>
    public DType DType
    {
        get
        {
            Info(out var dtype, out _, out _, out _);
            return (DType)dtype;
        }
    }

    /// <summary>The device holding the data.</summary>
    public Device Device
    {
        get
        {
            Info(out _, out var type, out var index, out _);
            return new Device((DeviceType)type, index);
        }
    }

    /// <summary>The number of dimensions (0 for a scalar tensor).</summary>
    public int Dim
    {
        get
        {
            Info(out _, out _, out _, out var ndim);
            return ndim;
        }
    }

    /// <summary>The size of each dimension, as torch.Tensor.shape.</summary>
    public long[] Shape
    {
        get
        {
            var sizes = stackalloc long[MaxDims];
            var n = Dim;
            NativeStatus.Check(Native.dt_tensor_sizes(Handle, sizes, null, MaxDims));
            return new ReadOnlySpan<long>(sizes, n).ToArray();
        }
    }

    /// <summary>The stride of each dimension in elements.</summary>
    public long[] Strides
    {
        get
        {
            var strides = stackalloc long[MaxDims];
            var n = Dim;
            NativeStatus.Check(Native.dt_tensor_sizes(Handle, null, strides, MaxDims));
            return new ReadOnlySpan<long>(strides, n).ToArray();
        }
    }

    /// <summary>The total number of elements (torch.Tensor.numel).</summary>
    public long NumberOfElements
    {
        get
        {
            NativeStatus.Check(Native.dt_tensor_numel(Handle, out var n));
            return n;
        }
    }

    /// <summary>The size of dimension <paramref name="dim"/>; negative dims count from the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The tensor has no such dimension.</exception>
    public long Size(int dim)
    {
        var shape = Shape;
        var d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"a tensor of shape {FormatShape(shape)} has no dimension {dim}");
        }

        return shape[d];
    }

    /// <summary>True when both tensors share the same native tensor (not merely storage).</summary>
    public bool IsSameAs(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        NativeStatus.Check(Native.dt_tensor_same(Handle, other.Handle, out var same));
        return same != 0;
    }

    /// <summary>Releases the native tensor now. Idempotent.</summary>
    public void Dispose()
    {
        if (!_handle.IsClosed)
        {
            _handle.Release();
        }
    }

    /// <summary>Hands this tensor to the scope enclosing its current one (or to no scope), so it outlives the step.</summary>
    /// <returns>This tensor.</returns>
    public Tensor MoveToOuterScope()
    {
        var outer = Scope?.Outer;
        Scope = null;
        outer?.Add(this);
        return this;
    }

    /// <summary>Removes this tensor from every scope: the caller disposes it (parameters, buffers, caches).</summary>
    /// <returns>This tensor.</returns>
    public Tensor DetachFromScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>Formats a shape as PyTorch-like text, e.g. "[2, 3]".</summary>
    public static string FormatShape(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    internal static Tensor Wrap(int status, IntPtr result)
    {
        NativeStatus.Check(status);
        return new Tensor(result);
    }

    private void Info(out int dtype, out int deviceType, out int deviceIndex, out int ndim) =>
        NativeStatus.Check(Native.dt_tensor_info(Handle, out dtype, out deviceType, out deviceIndex, out ndim, out _));
}
