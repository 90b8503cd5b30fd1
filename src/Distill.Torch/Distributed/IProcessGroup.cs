namespace Distill.Torch.Distributed;

/// <summary>
/// The collectives data-parallel training needs, over every rank of one job. Every call blocks until it has
/// completed on this rank and throws a <see cref="TorchException"/> naming the failure (a timeout, a peer that
/// closed) instead of hanging. All ranks must call the same collectives in the same order with tensors of the
/// same shapes and types.
/// </summary>
public interface IProcessGroup : IDisposable
{
    /// <summary>This process's rank, 0 to <see cref="WorldSize"/> - 1.</summary>
    int Rank { get; }

    /// <summary>The number of ranks in the job.</summary>
    int WorldSize { get; }

    /// <summary>Combines each tensor across ranks in place, so every rank ends with the same values.</summary>
    /// <param name="tensors">Dense, contiguous tensors, reduced in place.</param>
    /// <param name="op">How values are combined.</param>
    void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum);

    /// <summary>Overwrites each tensor in place with its value on <paramref name="root"/>.</summary>
    /// <param name="tensors">Dense, contiguous tensors.</param>
    /// <param name="root">The rank whose values every rank receives.</param>
    void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0);

    /// <summary>Gathers one tensor from every rank; element r of the result is rank r's tensor.</summary>
    /// <param name="tensor">This rank's tensor (the same shape and type on every rank).</param>
    /// <returns>New tensors, one per rank, owned by the caller.</returns>
    Tensor[] AllGather(Tensor tensor);

    /// <summary>Returns once every rank has reached the barrier.</summary>
    void Barrier();
}
