using Xunit;

namespace Distill.Torch.Tests;

/// <summary>TorchRuntime.ReleaseFreeMemory hands the heap that the tuned allocator policy keeps back to the kernel.</summary>
public sealed class ReleaseFreeMemoryTests
{
    [Fact]
    public void ReleaseFreeMemory_ReturnsFreedTensorBlocks_ThatTheTunedPolicyKeeps()
    {
        if (TorchRuntime.AllocatorPolicy != "tuned")
        {
            return; // the C library's defaults map such blocks and unmap them on free: nothing is kept to release
        }

        // 24 tensors of 4 MiB: below the policy's 32 MiB map threshold, so they live on the heap, and their 96 MiB is
        // below its 256 MiB trim threshold, so freeing them alone gives nothing back.
        const int Count = 24;
        var tensors = Enumerable.Range(0, Count).Select(_ => Tensor.Ones([1L << 20])).ToArray();
        foreach (var t in tensors)
        {
            t.Dispose();
        }

        var before = ResidentMib();
        Assert.True(TorchRuntime.ReleaseFreeMemory());
        var after = ResidentMib();
        // Pages written by the fills and freed: at least half of them must leave (other tests' threads may allocate
        // meanwhile, but cannot hold freed pages resident).
        Assert.True(before - after >= Count * 4 / 2, $"RSS {before:F0} MiB before the release, {after:F0} MiB after");
    }

    private static double ResidentMib() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
}
