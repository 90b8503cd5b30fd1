using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>
/// Sets how tensor memory is allocated, once, when the shim loads, before any tensor exists. libtorch's CPU tensors come
/// from malloc; glibc maps every block above a threshold (128 KiB at start, raised only as such blocks are freed) fresh
/// from the kernel and returns the heap's free top once it passes twice that, so each training step faults its
/// activations' pages in again (measured: a sixth of a small segmentation student's step was page faults and page
/// clearing). Three policies, chosen with <see cref="Variable"/>:
/// <list type="bullet">
/// <item>"cache" (the default): tensors of 1 MiB or more come from the shim's block cache, which keeps freed blocks for
/// the next request of their size class within twice the high-water mark of live bytes (every step after the first
/// reuses resident pages, and the cache stays near the largest set of blocks ever live at once); smaller blocks as
/// under "tuned".</item>
/// <item>"tuned": glibc keeps blocks below 32 MiB on its heap and trims only above 256 MiB, so recurring step-sized
/// blocks are reused, at the price of the heap's fragmentation (its resident size grows well beyond what is live).</item>
/// <item>"system": the C library's defaults.</item>
/// </list>
/// </summary>
internal static unsafe partial class AllocatorPolicy
{
    /// <summary>The environment variable that chooses the policy: "cache" (the default), "tuned" or "system".</summary>
    internal const string Variable = "DISTILL_ALLOCATOR";

    /// <summary>Blocks of at least this many bytes are mapped fresh (glibc's ceiling for its own dynamic threshold).</summary>
    internal const long MmapThreshold = 32L << 20;

    /// <summary>The heap's free top is given back to the kernel only beyond this many bytes.</summary>
    internal const long TrimThreshold = 256L << 20;

    /// <summary>The policy in force: "cache", "tuned" or "system" (also where the C library or libtorch refused the others).</summary>
    internal static string Name { get; private set; } = "system";

    /// <summary>Applies the policy <see cref="Variable"/> names through the shim at <paramref name="handle"/>.</summary>
    /// <exception cref="EnvironmentSettingException">The variable holds none of "cache", "tuned" or "system".</exception>
    internal static void Apply(IntPtr handle)
    {
        var choice = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(choice))
        {
            choice = "cache";
        }

        choice = choice.ToLowerInvariant();
        if (choice is not ("cache" or "tuned" or "system"))
        {
            throw new EnvironmentSettingException($"{Variable}={Environment.GetEnvironmentVariable(Variable)}: expected cache (the default), tuned or system");
        }

        if (choice == "system")
        {
            return;
        }

        // Both are speed and memory settings: a C library or libtorch that refuses them leaves the defaults, which are
        // correct, only slower.
        int applied;
        var status = ((delegate* unmanaged<long, long, int*, int>)NativeLibrary.GetExport(handle, "dt_set_allocator_policy"))(MmapThreshold, TrimThreshold, &applied);
        if (status != 0 || applied == 0)
        {
            return;
        }

        Name = "tuned";
        if (choice == "cache")
        {
            status = ((delegate* unmanaged<int*, int>)NativeLibrary.GetExport(handle, "dt_use_tensor_cache"))(&applied);
            if (status == 0 && applied != 0)
            {
                Name = "cache";
            }
        }
    }

    /// <summary>
    /// Hands free memory back to the kernel: the block cache's kept blocks, and the C heap's free pages (glibc's
    /// malloc_trim(0), every arena). True when either released something it could. The tuned policy keeps up to
    /// <see cref="TrimThreshold"/> of free heap per arena for the next step, and the cache up to the high-water mark
    /// of live tensors, which after a one-off phase (a teacher run over a whole data set) is memory no step will ask
    /// for in that shape.
    /// </summary>
    internal static bool ReleaseFree()
    {
        var released = false;
        if (Name == "cache")
        {
            NativeStatus.Check(Native.dt_tensor_cache_trim());
            released = true;
        }

        try
        {
            return MallocTrim(0) != 0 || released;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return released;
        }
    }

    /// <summary>The block cache's counters; zeros unless the "cache" policy is in force.</summary>
    internal static TensorCacheStats CacheStats()
    {
        if (Name != "cache")
        {
            return default;
        }

        NativeStatus.Check(Native.dt_tensor_cache_stats(out var live, out var cached, out var peak, out var hits, out var misses));
        return new TensorCacheStats(live, cached, peak, hits, misses);
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
