namespace Distill.Torch;

/// <summary>
/// Counters of the block cache that serves tensors of 1 MiB or more under the "cache" allocator policy
/// (<see cref="TorchRuntime.TensorCache"/>).
/// </summary>
/// <param name="LiveBytes">Bytes of blocks held by tensors now.</param>
/// <param name="CachedBytes">Bytes of freed blocks kept for reuse.</param>
/// <param name="PeakLiveBytes">The high-water mark of <paramref name="LiveBytes"/> since the process started or memory was last released.</param>
/// <param name="Hits">Requests served with a kept block.</param>
/// <param name="Misses">Requests that mapped a new block.</param>
public readonly record struct TensorCacheStats(long LiveBytes, long CachedBytes, long PeakLiveBytes, long Hits, long Misses);
