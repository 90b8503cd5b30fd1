using Distill.Torch.Interop;

namespace Distill.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>A view with another shape over the same data; one dimension may be -1 (torch.Tensor.view).</summary>
    public Tensor View(params ReadOnlySpan<long> shape) => ShapeList(ShapeListOp.View, shape);

    /// <summary>A view when possible, else a copy, with another shape (torch.reshape).</summary>
    public Tensor Reshape(params ReadOnlySpan<long> shape) => ShapeList(ShapeListOp.Reshape, shape);

    /// <summary>Reorders dimensions (torch.permute).</summary>
    public Tensor Permute(params ReadOnlySpan<long> dims) => ShapeList(ShapeListOp.Permute, dims);

    /// <summary>Broadcasts size-1 dimensions to a larger shape without copying; -1 keeps a size (torch.Tensor.expand).</summary>
    public Tensor Expand(params ReadOnlySpan<long> shape) => ShapeList(ShapeListOp.Expand, shape);

    /// <summary>Expands to <paramref name="other"/>'s shape.</summary>
    public Tensor ExpandAs(Tensor other) => Expand(other.Shape);

    /// <summary>Tiles the data along each dimension (torch.Tensor.repeat).</summary>
    public Tensor Repeat(params ReadOnlySpan<long> repeats) => ShapeList(ShapeListOp.Repeat, repeats);

    /// <summary>Reverses the order along the given dimensions (torch.flip).</summary>
    public Tensor Flip(params ReadOnlySpan<long> dims) => ShapeList(ShapeListOp.Flip, dims);

    /// <summary>Swaps two dimensions (torch.transpose).</summary>
    public Tensor Transpose(long dim0, long dim1) => ShapeInt(ShapeIntOp.Transpose, dim0, dim1);

    /// <summary>The transpose of a 2-d tensor (torch.Tensor.t / .T).</summary>
    public Tensor T() => Transpose(0, 1);

    /// <summary>length elements along dim from start, as a view (torch.narrow).</summary>
    public Tensor Narrow(long dim, long start, long length) => ShapeInt(ShapeIntOp.Narrow, dim, start, length);

    /// <summary>Elements start, start+step, ... below end along dim, as a view (x[..., start:end:step]).</summary>
    public Tensor Slice(long dim, long start, long end, long step = 1) => ShapeInt(ShapeIntOp.Slice, dim, start, end, step);

    /// <summary>The sub-tensor at index along dim, with that dimension removed (torch.select, x[i]).</summary>
    public Tensor Select(long dim, long index) => ShapeInt(ShapeIntOp.Select, dim, index);

    /// <summary>Merges dimensions startDim..endDim into one (torch.flatten).</summary>
    public Tensor Flatten(long startDim = 0, long endDim = -1) => ShapeInt(ShapeIntOp.Flatten, startDim, endDim);

    /// <summary>Removes every size-1 dimension (torch.squeeze).</summary>
    public Tensor Squeeze() => ShapeInt(ShapeIntOp.SqueezeAll);

    /// <summary>Removes dimension dim if its size is 1 (torch.squeeze(dim)).</summary>
    public Tensor Squeeze(long dim) => ShapeInt(ShapeIntOp.Squeeze, dim);

    /// <summary>Removes each listed dimension whose size is 1.</summary>
    public Tensor Squeeze(ReadOnlySpan<long> dims) => ShapeList(ShapeListOp.SqueezeDims, dims);

    /// <summary>Inserts a size-1 dimension at dim (torch.unsqueeze).</summary>
    public Tensor Unsqueeze(long dim) => ShapeInt(ShapeIntOp.Unsqueeze, dim);

    /// <summary>This tensor if already contiguous, else a contiguous copy (torch.Tensor.contiguous).</summary>
    public Tensor Contiguous() => ShapeInt(ShapeIntOp.Contiguous);

    /// <summary>
    /// This tensor if its elements already lie in <paramref name="format"/>'s order, else a copy that does: the same values
    /// and shape, other strides (torch.Tensor.contiguous(memory_format=...)). Channels-last needs a 4-d tensor.
    /// </summary>
    public Tensor Contiguous(MemoryFormat format) => format switch
    {
        MemoryFormat.Contiguous => Contiguous(),
        MemoryFormat.ChannelsLast => ShapeInt(ShapeIntOp.ContiguousChannelsLast),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown memory format"),
    };

    /// <summary>A copy that stays in the autograd graph (torch.clone).</summary>
    public Tensor Clone() => ShapeInt(ShapeIntOp.Clone);

    /// <summary>The same data cut from the autograd graph (torch.Tensor.detach).</summary>
    public Tensor Detach() => ShapeInt(ShapeIntOp.Detach);

    /// <summary>
    /// A second handle to this very tensor (same data, same autograd identity: gradients flow through it
    /// as through the original), owned separately: disposing one leaves the other valid.
    /// </summary>
    public Tensor Alias() => ShapeInt(ShapeIntOp.Alias);

    /// <summary>Splits into pieces of <paramref name="splitSize"/> along dim; the last may be smaller (torch.split).</summary>
    public Tensor[] Split(long splitSize, long dim = 0) => SplitInto(SplitOp.Split, splitSize, dim);

    /// <summary>Splits into at most <paramref name="chunks"/> pieces along dim (torch.chunk).</summary>
    public Tensor[] Chunk(long chunks, long dim = 0) => SplitInto(SplitOp.Chunk, chunks, dim);

    /// <summary>Joins tensors along an existing dimension (torch.cat).</summary>
    public static Tensor Cat(ReadOnlySpan<Tensor> tensors, long dim = 0) => Join(JoinOp.Cat, tensors, dim);

    /// <summary>Joins tensors along a new dimension (torch.stack).</summary>
    public static Tensor Stack(ReadOnlySpan<Tensor> tensors, long dim = 0) => Join(JoinOp.Stack, tensors, dim);

    /// <summary>Rows (or slices along dim) picked by an Int64 index vector (torch.index_select).</summary>
    public Tensor IndexSelect(long dim, Tensor index) => Wrap(Native.dt_index((int)IndexOp.IndexSelect, Handle, dim, index.Handle, out var r), r);

    /// <summary>out[i][j] = this[index[i][j]][j] for dim 0, and so on (torch.gather).</summary>
    public Tensor Gather(long dim, Tensor index) => Wrap(Native.dt_index((int)IndexOp.Gather, Handle, dim, index.Handle, out var r), r);

    /// <summary>In place: rows (slices along <paramref name="dim"/>) <paramref name="index"/> become <paramref name="source"/>'s (torch.Tensor.index_copy_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor IndexCopyInPlace(long dim, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        NativeStatus.Check(Native.dt_index_copy_(Handle, dim, index.Handle, source.Handle));
        return this;
    }

    /// <summary>A copy with source's values written at index along dim (torch.scatter).</summary>
    public Tensor Scatter(long dim, Tensor index, Tensor source) =>
        Wrap(Native.dt_scatter((int)ScatterOp.Scatter, Handle, dim, index.Handle, source.Handle, out var r), r);

    /// <summary>A copy with <paramref name="value"/> written at index along dim (torch.scatter with a value).</summary>
    public Tensor Scatter(long dim, Tensor index, double value) =>
        Wrap(Native.dt_scatter_value(Handle, dim, index.Handle, ScalarFor(value, DType), out var r), r);

    /// <summary>A copy with source's values added at index along dim (torch.scatter_add).</summary>
    public Tensor ScatterAdd(long dim, Tensor index, Tensor source) =>
        Wrap(Native.dt_scatter((int)ScatterOp.ScatterAdd, Handle, dim, index.Handle, source.Handle, out var r), r);

    /// <summary>A copy with value where mask is true (torch.masked_fill).</summary>
    public Tensor MaskedFill(Tensor mask, double value) =>
        Wrap(Native.dt_masked_fill(Handle, mask.Handle, ScalarFor(value, DType), 0, out var r), r);

    /// <summary>Writes value where mask is true, in place (torch.Tensor.masked_fill_).</summary>
    /// <returns>This tensor.</returns>
    public Tensor MaskedFillInPlace(Tensor mask, double value)
    {
        NativeStatus.Check(Native.dt_masked_fill(Handle, mask.Handle, ScalarFor(value, DType), 1, out _));
        return this;
    }

    /// <summary>The elements where mask is true, as a 1-d tensor (torch.masked_select).</summary>
    public Tensor MaskedSelect(Tensor mask) => Wrap(Native.dt_masked_select(Handle, mask.Handle, out var r), r);

    /// <summary>Elementwise a where condition is true, else b (torch.where).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) =>
        Wrap(Native.dt_where(condition.Handle, a.Handle, b.Handle, out var r), r);

    /// <summary>
    /// Pads the last dimensions (torch.nn.functional.pad): pads lists (left, right, top, bottom, ...) from the
    /// last dimension backwards; reflect and replicate need 2-d to 4-d inputs as in PyTorch.
    /// </summary>
    public Tensor Pad(ReadOnlySpan<long> pads, PaddingMode mode = PaddingMode.Constant, double value = 0)
    {
        fixed (long* p = pads)
        {
            return Wrap(Native.dt_pad(Handle, p, pads.Length, (int)mode, value, out var r), r);
        }
    }

    private Tensor ShapeList(ShapeListOp op, ReadOnlySpan<long> values)
    {
        fixed (long* v = values)
        {
            return Wrap(Native.dt_shape_list((int)op, Handle, v, values.Length, out var r), r);
        }
    }

    private Tensor ShapeInt(ShapeIntOp op, long a = 0, long b = 0, long c = 0, long d = 0) =>
        Wrap(Native.dt_shape_int((int)op, Handle, a, b, c, d, out var r), r);

    private Tensor[] SplitInto(SplitOp op, long sizeOrChunks, long dim)
    {
        // At most one piece per element along dim (and at least one slot for an empty dim).
        var capacity = Math.Max(1, Size((int)dim));
        var outs = new IntPtr[capacity];
        long count;
        fixed (IntPtr* o = outs)
        {
            NativeStatus.Check(Native.dt_split((int)op, Handle, sizeOrChunks, dim, o, capacity, out count));
        }

        var result = new Tensor[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = new Tensor(outs[i]);
        }

        return result;
    }

    private static Tensor Join(JoinOp op, ReadOnlySpan<Tensor> tensors, long dim)
    {
        using var list = new HandleList(tensors);
        return Wrap(Native.dt_join((int)op, list.Pointer, list.Count, dim, out var r), r);
    }
}
