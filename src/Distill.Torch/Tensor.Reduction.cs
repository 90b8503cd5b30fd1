using Distill.Torch.Interop;

namespace Distill.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>Sum of all elements; dtype overrides the result type (torch.sum).</summary>
    public Tensor Sum(DType? dtype = null) => Reduce(ReduceOp.Sum, [], false, dtype);

    /// <summary>Sum over the listed dims (torch.sum(dim, keepdim)).</summary>
    public Tensor Sum(ReadOnlySpan<long> dims, bool keepDim = false, DType? dtype = null) => Reduce(ReduceOp.Sum, dims, keepDim, dtype);

    /// <summary>Sum over one dim.</summary>
    public Tensor Sum(long dim, bool keepDim = false) => Reduce(ReduceOp.Sum, [dim], keepDim, null);

    /// <summary>Sum over one dimension (an int overload, so Sum(0) reduces dimension 0 instead of binding the literal 0 to a dtype).</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum((long)dim, keepDim);

    /// <summary>Mean of all elements (torch.mean).</summary>
    public Tensor Mean(DType? dtype = null) => Reduce(ReduceOp.Mean, [], false, dtype);

    /// <summary>Mean over the listed dims.</summary>
    public Tensor Mean(ReadOnlySpan<long> dims, bool keepDim = false, DType? dtype = null) => Reduce(ReduceOp.Mean, dims, keepDim, dtype);

    /// <summary>Mean over one dim.</summary>
    public Tensor Mean(long dim, bool keepDim = false) => Reduce(ReduceOp.Mean, [dim], keepDim, null);

    /// <summary>Mean over one dimension (an int overload, so Mean(0) reduces dimension 0 instead of binding the literal 0 to a dtype).</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean((long)dim, keepDim);

    /// <summary>Product of all elements (torch.prod).</summary>
    public Tensor Prod() => Reduce(ReduceOp.Prod, [], false, null);

    /// <summary>Product over one dim.</summary>
    public Tensor Prod(long dim, bool keepDim = false) => Reduce(ReduceOp.Prod, [dim], keepDim, null);

    /// <summary>Largest element (torch.max() without a dim).</summary>
    public Tensor Max() => Reduce(ReduceOp.Amax, [], false, null);

    /// <summary>Smallest element (torch.min() without a dim).</summary>
    public Tensor Min() => Reduce(ReduceOp.Amin, [], false, null);

    /// <summary>Largest values and their indices along dim (torch.max(dim, keepdim)).</summary>
    public (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false) => ReduceIndexed(IndexedReduceOp.Max, dim, keepDim);

    /// <summary>Smallest values and their indices along dim (torch.min(dim, keepdim)).</summary>
    public (Tensor Values, Tensor Indices) Min(long dim, bool keepDim = false) => ReduceIndexed(IndexedReduceOp.Min, dim, keepDim);

    /// <summary>Largest values over the listed dims, gradient split evenly among ties (torch.amax).</summary>
    public Tensor Amax(ReadOnlySpan<long> dims, bool keepDim = false) => Reduce(ReduceOp.Amax, dims, keepDim, null);

    /// <summary>Smallest values over the listed dims (torch.amin).</summary>
    public Tensor Amin(ReadOnlySpan<long> dims, bool keepDim = false) => Reduce(ReduceOp.Amin, dims, keepDim, null);

    /// <summary>log(sum(exp(x))) over the listed dims, computed stably (torch.logsumexp).</summary>
    public Tensor LogSumExp(ReadOnlySpan<long> dims, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, dims, keepDim, null);

    /// <summary>log(sum(exp(x))) over one dim.</summary>
    public Tensor LogSumExp(long dim, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, [dim], keepDim, null);

    /// <summary>True when every element is non-zero (torch.all).</summary>
    public Tensor All() => Reduce(ReduceOp.All, [], false, null);

    /// <summary>Whether every element along dim is non-zero.</summary>
    public Tensor All(long dim, bool keepDim = false) => Reduce(ReduceOp.All, [dim], keepDim, null);

    /// <summary>True when any element is non-zero (torch.any).</summary>
    public Tensor Any() => Reduce(ReduceOp.Any, [], false, null);

    /// <summary>Whether any element along dim is non-zero.</summary>
    public Tensor Any(long dim, bool keepDim = false) => Reduce(ReduceOp.Any, [dim], keepDim, null);

    /// <summary>Variance of all elements; unbiased divides by N-1 (torch.var).</summary>
    public Tensor Var(bool unbiased = true) => Moment(MomentOp.Var, [], unbiased, false);

    /// <summary>Variance over the listed dims.</summary>
    public Tensor Var(ReadOnlySpan<long> dims, bool unbiased = true, bool keepDim = false) => Moment(MomentOp.Var, dims, unbiased, keepDim);

    /// <summary>Standard deviation of all elements; unbiased divides by N-1 (torch.std).</summary>
    public Tensor Std(bool unbiased = true) => Moment(MomentOp.Std, [], unbiased, false);

    /// <summary>Standard deviation over the listed dims.</summary>
    public Tensor Std(ReadOnlySpan<long> dims, bool unbiased = true, bool keepDim = false) => Moment(MomentOp.Std, dims, unbiased, keepDim);

    /// <summary>The p-norm of all elements (torch.norm(p)).</summary>
    public Tensor Norm(double p = 2)
    {
        return Wrap(Native.dt_norm(Handle, p, null, 0, 0, out var r), r);
    }

    /// <summary>The p-norm over the listed dims (torch.norm(p, dim, keepdim)).</summary>
    public Tensor Norm(double p, ReadOnlySpan<long> dims, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            return Wrap(Native.dt_norm(Handle, p, d, dims.Length, keepDim ? 1 : 0, out var r), r);
        }
    }

    /// <summary>Index of the largest element of the flattened tensor (torch.argmax()).</summary>
    public Tensor ArgMax() => Wrap(Native.dt_arg((int)ArgOp.ArgMax, Handle, 0, 0, 0, out var r), r);

    /// <summary>Indices of the largest elements along dim.</summary>
    public Tensor ArgMax(long dim, bool keepDim = false) => Wrap(Native.dt_arg((int)ArgOp.ArgMax, Handle, 1, dim, keepDim ? 1 : 0, out var r), r);

    /// <summary>Index of the smallest element of the flattened tensor (torch.argmin()).</summary>
    public Tensor ArgMin() => Wrap(Native.dt_arg((int)ArgOp.ArgMin, Handle, 0, 0, 0, out var r), r);

    /// <summary>Indices of the smallest elements along dim.</summary>
    public Tensor ArgMin(long dim, bool keepDim = false) => Wrap(Native.dt_arg((int)ArgOp.ArgMin, Handle, 1, dim, keepDim ? 1 : 0, out var r), r);

    /// <summary>The k largest (or smallest) values along dim and their indices (torch.topk).</summary>
    public (Tensor Values, Tensor Indices) TopK(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        NativeStatus.Check(Native.dt_topk(Handle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, out var values, out var indices));
        return (new Tensor(values), new Tensor(indices));
    }

    /// <summary>Values sorted along dim and the permutation that sorts them (torch.sort).</summary>
    public (Tensor Values, Tensor Indices) Sort(long dim = -1, bool descending = false, bool stable = false)
    {
        NativeStatus.Check(Native.dt_sort(Handle, dim, descending ? 1 : 0, stable ? 1 : 0, out var values, out var indices));
        return (new Tensor(values), new Tensor(indices));
    }

    /// <summary>Running sum along dim (torch.cumsum).</summary>
    public Tensor CumSum(long dim) => Wrap(Native.dt_cumsum(Handle, dim, out var r), r);

    private Tensor Reduce(ReduceOp op, ReadOnlySpan<long> dims, bool keepDim, DType? dtype)
    {
        fixed (long* d = dims)
        {
            return Wrap(Native.dt_reduce((int)op, Handle, d, dims.Length, keepDim ? 1 : 0, dtype is { } t ? (int)t : -1, out var r), r);
        }
    }

    private Tensor Moment(MomentOp op, ReadOnlySpan<long> dims, bool unbiased, bool keepDim)
    {
        fixed (long* d = dims)
        {
            return Wrap(Native.dt_moment((int)op, Handle, d, dims.Length, unbiased ? 1 : 0, keepDim ? 1 : 0, out var r), r);
        }
    }

    private (Tensor Values, Tensor Indices) ReduceIndexed(IndexedReduceOp op, long dim, bool keepDim)
    {
        NativeStatus.Check(Native.dt_reduce_indexed((int)op, Handle, dim, keepDim ? 1 : 0, out var values, out var indices));
        return (new Tensor(values), new Tensor(indices));
    }
}
