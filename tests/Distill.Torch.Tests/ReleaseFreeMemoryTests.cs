using Xunit;

namespace Distill.Torch.Tests;

/// <summary>
/// TorchRuntime.ReleaseFreeMemory hands the memory that the allocator policy keeps for reuse back to the kernel: the
/// block cache's kept blocks, or the tuned heap's free pages. It reads the process's RSS, so it runs alone (its own
/// collection, not in parallel with other tests' allocations).
/// </summary>
[Collection(nameof(ReleaseFreeMemoryTests))]
[CollectionDefinition(nameof(ReleaseFreeMemoryTests), DisableParallelization = true)]
public sealed class ReleaseFreeMemoryTests
{
    [Fact]
    public void ReleaseFreeMemory_ReturnsFreedTensorBlocks_ThatThePolicyKeeps()
    {
        if (TorchRuntime.AllocatorPolicy == "system")
        {
            return; // the C library's defaults map such blocks and unmap them on free: nothing is kept to release
        }

        // 24 tensors of 4 MiB: kept by the cache when freed, or (tuned) below the 32 MiB map threshold, so they live on
        // the heap, and their 96 MiB below its 256 MiB trim threshold, so freeing them alone gives nothing back.
        // Earlier tests' freed blocks are released first, so the fills below fault in fresh pages.
        const int Count = 24;
        TorchRuntime.ReleaseFreeMemory();
        var start = ResidentMib();
        var tensors = Enumerable.Range(0, Count).Select(_ => Tensor.Ones([1L << 20])).ToArray();
        // A block after them, alive until the end, so theirs are free chunks inside the heap rather than its free top
        // (which glibc's trim of a thread's own arena leaves alone; the training thread's main arena gives both back).
        using var guard = Tensor.Ones([1L << 18]);
        var filled = ResidentMib();
        foreach (var t in tensors)
        {
            t.Dispose();
        }

        var before = ResidentMib();
        Assert.True(TorchRuntime.ReleaseFreeMemory());
        var after = ResidentMib();
        // Pages written by the fills and freed: at least half of them must leave.
        Assert.True(before - after >= Count * 4 / 2, $"RSS {start:F0} MiB at the start, {filled:F0} MiB filled, {before:F0} MiB before the release, {after:F0} MiB after");
    }

    private static double ResidentMib() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
}
