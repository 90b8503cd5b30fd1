using Xunit;

namespace Distill.Torch.Tests;

/// <summary>
/// The block cache behind the default "cache" allocator policy: tensors of 1 MiB or more reuse freed blocks of their
/// size class, small ones never enter it, and what it keeps stays within twice the high-water mark of live bytes. The
/// counters are the process's, so these run in the collection that runs alone.
/// </summary>
[Collection(nameof(ReleaseFreeMemoryTests))]
public sealed class TensorCacheTests
{
    private const long Mib = 1L << 20;

    /// <summary>Whether this run uses the cache: the default, which must then be in force; another DISTILL_ALLOCATOR skips.</summary>
    private static bool CacheChosen()
    {
        var chosen = Environment.GetEnvironmentVariable("DISTILL_ALLOCATOR");
        if (!string.IsNullOrEmpty(chosen) && !string.Equals(chosen, "cache", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        Assert.Equal("cache", TorchRuntime.AllocatorPolicy);
        return true;
    }

    [Fact]
    public void AFreedBlock_IsHandedToTheNextTensorOfItsSizeClass_WithoutANewMapping()
    {
        if (!CacheChosen())
        {
            return;
        }

        TorchRuntime.ReleaseFreeMemory();
        Tensor.Ones([Mib]).Dispose(); // 4 MiB, now kept
        var before = TorchRuntime.TensorCache;
        // 4 MiB - 4 KiB: the same class (requests round up to the next eighth of their power of two), so the kept block serves it.
        using var t = Tensor.Full([Mib - 1024], 2f);
        var after = TorchRuntime.TensorCache;

        Assert.Equal(before.Misses, after.Misses);
        Assert.Equal(before.Hits + 1, after.Hits);
        Assert.Equal(before.CachedBytes - (4 * Mib), after.CachedBytes);
        Assert.Equal(2.0 * (Mib - 1024), t.Sum().Item<float>()); // the reused block holds the new tensor's values
    }

    [Fact]
    public void SmallTensors_DoNotEnterTheCache()
    {
        if (!CacheChosen())
        {
            return;
        }

        var before = TorchRuntime.TensorCache;
        using (var small = Tensor.Ones([(Mib / 4) - 1024]))
        {
            Assert.Equal(before.LiveBytes, TorchRuntime.TensorCache.LiveBytes);
        }

        var after = TorchRuntime.TensorCache;
        Assert.Equal((before.Hits, before.Misses), (after.Hits, after.Misses));
    }

    [Fact]
    public void TensorsOfEverChangingSizes_KeepLiveAndCachedWithinTwiceThePeakOfLive()
    {
        if (!CacheChosen())
        {
            return;
        }

        TorchRuntime.ReleaseFreeMemory();
        // Eight live blocks at a time, each round a new size class: without a bound the cache would keep every round's.
        for (var round = 0; round < 12; round++)
        {
            var elements = (2 * Mib) + (round * Mib / 4);
            var live = Enumerable.Range(0, 8).Select(_ => Tensor.Empty([elements])).ToArray();
            foreach (var t in live)
            {
                t.Dispose();
            }

            var stats = TorchRuntime.TensorCache;
            Assert.True(stats.LiveBytes + stats.CachedBytes <= 2 * stats.PeakLiveBytes,
                $"round {round}: live {stats.LiveBytes / Mib} MiB + cached {stats.CachedBytes / Mib} MiB above twice the peak {stats.PeakLiveBytes / Mib} MiB");
        }

        TorchRuntime.ReleaseFreeMemory();
        var released = TorchRuntime.TensorCache;
        Assert.Equal(0, released.CachedBytes);
        Assert.Equal(released.LiveBytes, released.PeakLiveBytes);
    }
}
