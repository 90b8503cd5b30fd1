using System.Globalization;
using System.Text;
using Distill.Torch.Interop;

namespace Distill.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>Creates a CPU tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    /// <typeparam name="T">float, double, Half, long, int, short, sbyte, byte or bool.</typeparam>
    /// <param name="data">Elements in row-major order.</param>
    /// <param name="shape">The shape; empty means a 1-d tensor of data's length.</param>
    /// <exception cref="ArgumentException">The shape's element count differs from data's length.</exception>
    public static Tensor From<T>(ReadOnlySpan<T> data, params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        var dtype = DTypeExtensions.Of<T>();
        Span<long> oneDim = [data.Length];
        var s = shape.IsEmpty ? oneDim : shape;
        long count = 1;
        foreach (var d in s)
        {
            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"shape {FormatShape(s)} holds {count} elements but the data has {data.Length}", nameof(shape));
        }

        fixed (T* p = data)
        fixed (long* sizes = s)
        {
            return Wrap(Native.dt_tensor_from_data(p, (long)data.Length * sizeof(T), sizes, s.Length, (int)dtype, out var r), r);
        }
    }

    /// <summary>Creates a CPU tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    public static Tensor From<T>(T[] data, params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        return From(new ReadOnlySpan<T>(data), shape);
    }

    /// <summary>A 0-d tensor of the .NET value's dtype (2f gives Float32, 2.0 Float64, 2L Int64).</summary>
    public static Tensor Scalar<T>(T value)
        where T : unmanaged => FromScalar(value);

    private static Tensor FromScalar<T>(T value)
        where T : unmanaged
    {
        var dtype = DTypeExtensions.Of<T>();
        return Wrap(Native.dt_tensor_from_data(&value, sizeof(T), null, 0, (int)dtype, out var r), r);
    }

    /// <summary>Copies the elements (row-major, on the host) into a new array.</summary>
    /// <typeparam name="T">The .NET type of the tensor's dtype (float for Float32, long for Int64, ...).</typeparam>
    /// <exception cref="InvalidOperationException">T does not match the dtype; convert with <see cref="To(DType)"/> first.</exception>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        CheckElementType<T>();
        var result = new T[checked((int)NumberOfElements)];
        fixed (T* p = result)
        {
            NativeStatus.Check(Native.dt_tensor_copy_to(Handle, p, (long)result.Length * sizeof(T)));
        }

        return result;
    }

    /// <summary>The value of a one-element tensor, as torch.Tensor.item().</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element, or T does not match the dtype.</exception>
    public T Item<T>()
        where T : unmanaged
    {
        CheckElementType<T>();
        var n = NumberOfElements;
        if (n != 1)
        {
            throw new InvalidOperationException($"Item needs a tensor with one element; this one has shape {FormatShape(Shape)} ({n} elements).");
        }

        T value;
        NativeStatus.Check(Native.dt_tensor_copy_to(Handle, &value, sizeof(T)));
        return value;
    }

    /// <summary>A CPU tensor over a copy of raw little-endian bytes of any dtype (checkpoint readers).</summary>
    /// <exception cref="ArgumentException">The byte count differs from shape x element size.</exception>
    public static Tensor FromBytes(ReadOnlySpan<byte> data, DType dtype, ReadOnlySpan<long> shape)
    {
        fixed (byte* p = data)
        fixed (long* sizes = shape)
        {
            return Wrap(Native.dt_tensor_from_data(p, data.Length, sizes, shape.Length, (int)dtype, out var r), r);
        }
    }

    /// <summary>The raw row-major bytes (host order, little-endian here) of the elements, any dtype.</summary>
    public byte[] ToBytes()
    {
        var result = new byte[checked((int)(NumberOfElements * DType.ElementSize()))];
        fixed (byte* p = result)
        {
            NativeStatus.Check(Native.dt_tensor_copy_to(Handle, p, result.Length));
        }

        return result;
    }

    /// <summary>
    /// Replaces this tensor's data with <paramref name="source"/>'s (storage, dtype, device), keeping this
    /// object, its requires-grad flag and every reference to it valid (torch's param.data = ...).
    /// </summary>
    public void SetData(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        NativeStatus.Check(Native.dt_tensor_set_data(Handle, source.Handle));
    }

    /// <summary>Converts to another dtype (a new tensor; autograd flows through float conversions).</summary>
    public Tensor To(DType dtype) => Wrap(Native.dt_tensor_to(Handle, (int)dtype, -1, -1, 0, 0, out var r), r);

    /// <summary>Moves to another device (the same tensor when it is already there).</summary>
    /// <param name="device">The target device.</param>
    /// <param name="nonBlocking">
    /// Let the copy run asynchronously (tensor.to(device, non_blocking=True)): host to CUDA from pinned memory
    /// (<see cref="PinMemory"/>) returns before the copy ends, ordered before later kernels on the device.
    /// </param>
    public Tensor To(Device device, bool nonBlocking = false) =>
        Wrap(Native.dt_tensor_to(Handle, -1, (int)device.Type, device.Index, 0, nonBlocking ? 1 : 0, out var r), r);

    /// <summary>A copy in page-locked host memory (tensor.pin_memory()), for fast non-blocking copies to a GPU.</summary>
    /// <exception cref="TorchException">CUDA is not available (pinned memory needs a CUDA build and a GPU).</exception>
    public Tensor PinMemory() => Wrap(Native.dt_tensor_pin_memory(Handle, out var r), r);

    /// <summary>True when the data is in page-locked host memory (always false without CUDA).</summary>
    public bool IsPinned
    {
        get
        {
            NativeStatus.Check(Native.dt_tensor_is_pinned(Handle, out var pinned));
            return pinned != 0;
        }
    }

    /// <summary>Converts dtype and device in one step; <paramref name="copy"/> forces a copy even when nothing changes.</summary>
    public Tensor To(DType dtype, Device device, bool copy = false) =>
        Wrap(Native.dt_tensor_to(Handle, (int)dtype, (int)device.Type, device.Index, copy ? 1 : 0, 0, out var r), r);

    /// <summary>Shape, dtype, device and (up to 6 per dimension) values, e.g. <c>tensor([1.5, 2], dtype=Float32)</c>.</summary>
    public override string ToString()
    {
        if (IsDisposed)
        {
            return "tensor(<disposed>)";
        }

        var shape = Shape;
        var dtype = DType;
        var sb = new StringBuilder("tensor(");
        using (var values = To(DType.Float64, Device.Cpu, copy: true).DetachFromScope())
        {
            var data = values.ToArray<double>();
            AppendValues(sb, data, shape, 0, 0, dtype);
        }

        sb.Append(", shape=").Append(FormatShape(shape)).Append(", dtype=").Append(dtype);
        var device = Device;
        if (device.Type != DeviceType.Cpu)
        {
            sb.Append(", device=").Append(device);
        }

        if (RequiresGrad)
        {
            sb.Append(", requires_grad");
        }

        return sb.Append(')').ToString();
    }

    private static int AppendValues(StringBuilder sb, double[] data, long[] shape, int dim, int offset, DType dtype)
    {
        const int Edge = 3;
        if (dim == shape.Length)
        {
            sb.Append(FormatValue(data[offset], dtype));
            return offset + 1;
        }

        var n = shape[dim];
        long stride = 1;
        for (var d = dim + 1; d < shape.Length; d++)
        {
            stride *= shape[d];
        }

        sb.Append('[');
        for (long i = 0; i < n; i++)
        {
            if (n > 2 * Edge && i == Edge)
            {
                sb.Append("..., ");
                i = n - Edge;
            }

            AppendValues(sb, data, shape, dim + 1, (int)(offset + (i * stride)), dtype);
            if (i < n - 1)
            {
                sb.Append(", ");
            }
        }

        sb.Append(']');
        return offset + (int)(n * stride);
    }

    private static string FormatValue(double v, DType dtype) => dtype switch
    {
        DType.Bool => v != 0 ? "True" : "False",
        _ when !dtype.IsFloatingPoint() => ((long)v).ToString(CultureInfo.InvariantCulture),
        _ => v.ToString("G6", CultureInfo.InvariantCulture),
    };

    private void CheckElementType<T>()
        where T : unmanaged
    {
        var dtype = DType;
        if (DTypeExtensions.Of<T>() != dtype)
        {
            throw new InvalidOperationException(
                $"the tensor's dtype is {dtype} but {typeof(T).Name} was asked for; convert first with To(DType.{DTypeExtensions.Of<T>()}).");
        }
    }
}
