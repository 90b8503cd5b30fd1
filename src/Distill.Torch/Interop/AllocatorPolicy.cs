using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>
/// Sets the C allocator's policy for large blocks once, when the shim loads, before any tensor exists. libtorch's CPU
/// tensors come from malloc; glibc maps every block above a threshold (128 KiB at start, raised only as such blocks
/// are freed) fresh from the kernel and returns the heap's free top once it passes twice that, so each training step
/// faults its activations' pages in again (measured: a sixth of a small segmentation student's step was page faults
/// and page clearing). Distill keeps blocks below 32 MiB on the heap and trims only above 256 MiB, which recurring
/// step-sized allocations then reuse. <see cref="Variable"/> = "system" keeps the C library's defaults.
/// </summary>
internal static unsafe partial class AllocatorPolicy
{
    /// <summary>The environment variable that chooses the policy: "tuned" (the default) or "system".</summary>
    internal const string Variable = "DISTILL_ALLOCATOR";

    /// <summary>Blocks of at least this many bytes are mapped fresh (glibc's ceiling for its own dynamic threshold).</summary>
    internal const long MmapThreshold = 32L << 20;

    /// <summary>The heap's free top is given back to the kernel only beyond this many bytes.</summary>
    internal const long TrimThreshold = 256L << 20;

    /// <summary>Whether the tuned policy is in force (false with "system", or on a C library without such settings).</summary>
    internal static bool Tuned { get; private set; }

    /// <summary>Applies the policy <see cref="Variable"/> names through the shim at <paramref name="handle"/>.</summary>
    /// <exception cref="EnvironmentSettingException">The variable holds neither "tuned" nor "system".</exception>
    internal static void Apply(IntPtr handle)
    {
        var choice = Environment.GetEnvironmentVariable(Variable);
        if (string.Equals(choice, "system", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (!string.IsNullOrEmpty(choice) && !string.Equals(choice, "tuned", StringComparison.OrdinalIgnoreCase))
        {
            throw new EnvironmentSettingException($"{Variable}={choice}: expected tuned (the default) or system");
        }

        var export = NativeLibrary.GetExport(handle, "dt_set_allocator_policy");
        int applied;
        var status = ((delegate* unmanaged<long, long, int*, int>)export)(MmapThreshold, TrimThreshold, &applied);
        // The policy is a speed setting: a C library that refuses it leaves the defaults, which are correct, only slower.
        Tuned = status == 0 && applied != 0;
    }

    /// <summary>
    /// Hands the C heap's free pages back to the kernel (glibc's malloc_trim(0), every arena); false where the C library
    /// has no such call. The tuned policy keeps up to <see cref="TrimThreshold"/> of free heap per arena for the next step,
    /// which after a one-off phase (a teacher run over a whole data set) is memory no step will ask for in that shape.
    /// </summary>
    internal static bool ReleaseFree()
    {
        try
        {
            return MallocTrim(0) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
