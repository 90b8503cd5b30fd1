using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>Runtime facts and global settings: versions, threads, seeding, CUDA.</summary>
public static unsafe class TorchRuntime
{
    /// <summary>The libtorch version the shim was built against, e.g. "1.13.0".</summary>
    public static string LibTorchVersion
    {
        get
        {
            NativeStatus.Check(Native.dt_torch_version(out var v));
            return Marshal.PtrToStringUTF8((IntPtr)v) ?? "unknown";
        }
    }

    /// <summary>The shim's C ABI version.</summary>
    public static int AbiVersion
    {
        get
        {
            NativeStatus.Check(Native.dt_abi_version(out var v));
            return v;
        }
    }

    /// <summary>Distill.Torch's own version.</summary>
    public static string Version =>
        typeof(TorchRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// How tensor memory is allocated: "cache" (the default: tensors of 1 MiB or more from Distill's block cache, which
    /// reuses freed blocks of the same size class within twice the high-water mark of live bytes), "tuned" (glibc keeps
    /// large blocks on its heap between steps) or "system" (the C library's defaults), chosen with DISTILL_ALLOCATOR;
    /// a policy the C library or libtorch refuses falls back to the next. Loads the shim.
    /// </summary>
    public static string AllocatorPolicy
    {
        get
        {
            NativeLibraryLoader.Load();
            return Interop.AllocatorPolicy.Name;
        }
    }

    /// <summary>The block cache's counters (all zero unless <see cref="AllocatorPolicy"/> is "cache"). Loads the shim.</summary>
    public static TensorCacheStats TensorCache
    {
        get
        {
            NativeLibraryLoader.Load();
            return Interop.AllocatorPolicy.CacheStats();
        }
    }

    /// <summary>
    /// Returns free memory to the operating system after a one-off phase that allocated much more than what follows
    /// needs (e.g. a teacher run over a whole data set before training): the blocks the cache keeps for reuse and the C
    /// heap's free pages are handed back, so they do not stay resident under the next phase, and the cache's ceiling
    /// restarts from what is live. True when some memory could be released. Loads the shim.
    /// </summary>
    public static bool ReleaseFreeMemory()
    {
        NativeLibraryLoader.Load();
        return Interop.AllocatorPolicy.ReleaseFree();
    }

    /// <summary>
    /// The BLAS library libtorch's matrix products run on, as mapped into this process (e.g.
    /// "openblas-openmp/libblas.so.3" for OpenBLAS, "blas/libblas.so.3.11.0" for the slow reference BLAS), or
    /// "linked into libtorch" where no separate BLAS library is loaded (builds with a static MKL). Loads the shim.
    /// </summary>
    public static string BlasLibrary
    {
        get
        {
            NativeLibraryLoader.Load();
            return MappedBlasLibrary() ?? "linked into libtorch";
        }
    }

    /// <summary>Threads libtorch uses for intra-op parallelism (torch.get_num_threads / set_num_threads).</summary>
    public static int Threads
    {
        get
        {
            NativeStatus.Check(Native.dt_get_num_threads(out var n));
            return n;
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            NativeStatus.Check(Native.dt_set_num_threads(value));
        }
    }

    /// <summary>True when libtorch was built with CUDA and a GPU is visible. Never throws on a CPU-only build.</summary>
    public static bool CudaIsAvailable
    {
        get
        {
            NativeStatus.Check(Native.dt_cuda_is_available(out var available));
            return available != 0;
        }
    }

    /// <summary>The number of visible CUDA devices (0 on a CPU-only build).</summary>
    public static int CudaDeviceCount
    {
        get
        {
            NativeStatus.Check(Native.dt_cuda_device_count(out var n));
            return n;
        }
    }

    /// <summary>
    /// The visible CUDA devices (name, memory, compute capability from the CUDA driver); empty when CUDA is not
    /// available to this libtorch.
    /// </summary>
    public static IReadOnlyList<CudaDeviceInfo> CudaDevices
    {
        get
        {
            var devices = new List<CudaDeviceInfo>();
            var name = stackalloc byte[256];
            for (var i = 0; i < CudaDeviceCount; i++)
            {
                NativeStatus.Check(Native.dt_cuda_device_info(i, name, 256, out var memory, out var major, out var minor));
                devices.Add(new CudaDeviceInfo(i, Marshal.PtrToStringUTF8((IntPtr)name) ?? "?", memory, major, minor));
            }

            return devices;
        }
    }

    /// <summary>Why <paramref name="device"/> cannot hold tensors here, or null when it can (the CPU and meta always can).</summary>
    /// <param name="device">The device a run asks for.</param>
    /// <returns>E.g. "cuda:0 is not available: this libtorch (1.13.0) has no CUDA support or sees no GPU".</returns>
    public static string? Unavailable(Device device)
    {
        if (device.Type != DeviceType.Cuda)
        {
            return null;
        }

        if (!CudaIsAvailable)
        {
            return $"{device} is not available: this libtorch ({LibTorchVersion}) has no CUDA support or sees no GPU";
        }

        var count = CudaDeviceCount;
        return device.Index < count ? null
            : $"{device} is not available: there {(count == 1 ? "is 1 CUDA device (cuda:0)" : $"are {count} CUDA devices (cuda:0 to cuda:{count - 1})")}";
    }

    /// <summary>
    /// Lets CUDA convolutions (cuDNN) and matrix products (cuBLAS) use TF32 on Ampere and later GPUs, as
    /// torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32 do (libtorch's defaults: true, false).
    /// Golden comparisons at float32 tolerance need both off.
    /// </summary>
    public static void SetCudaAllowTF32(bool cudnn, bool cublas) => NativeStatus.Check(Native.dt_cuda_set_allow_tf32(cudnn ? 1 : 0, cublas ? 1 : 0));

    /// <summary>Waits until every kernel queued on CUDA device <paramref name="index"/> has run (no-op without CUDA); for timing.</summary>
    public static void CudaSynchronize(int index = 0) => NativeStatus.Check(Native.dt_cuda_synchronize(index));

    /// <summary>Seeds the global CPU generator and every CUDA device's (torch.manual_seed).</summary>
    public static void ManualSeed(ulong seed) => NativeStatus.Check(Native.dt_manual_seed(seed));

    /// <summary>The global CPU generator's state as a UInt8 tensor (torch.get_rng_state), for checkpoints.</summary>
    public static Tensor GetRngState() => Tensor.Wrap(Native.dt_global_rng_get_state(out var r), r);

    /// <summary>CUDA device <paramref name="index"/>'s default generator state (torch.cuda.get_rng_state), for checkpoints.</summary>
    /// <exception cref="TorchException">CUDA is not available or the device does not exist.</exception>
    public static Tensor GetCudaRngState(int index) => Tensor.Wrap(Native.dt_cuda_rng_get_state(index, out var r), r);

    /// <summary>Restores a state from <see cref="GetCudaRngState"/> (torch.cuda.set_rng_state).</summary>
    /// <exception cref="TorchException">CUDA is not available, the device does not exist, or the state is not one.</exception>
    public static void SetCudaRngState(int index, Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        NativeStatus.Check(Native.dt_cuda_rng_set_state(index, state.Handle));
    }

    /// <summary>Restores a state from <see cref="GetRngState"/> (torch.set_rng_state).</summary>
    public static void SetRngState(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        NativeStatus.Check(Native.dt_global_rng_set_state(state.Handle));
    }

    private static string? MappedBlasLibrary()
    {
        const string Maps = "/proc/self/maps";
        if (!File.Exists(Maps))
        {
            return null;
        }

        // Several BLAS builds can be mapped at once (Debian's liblapack.so.3 may pull in OpenBLAS beside a reference
        // libblas.so.3); the one that counts is the library whose sgemm_ the loader bound libtorch's libblas.so.3 to.
        var sgemm = 0UL;
        if (NativeLibrary.TryLoad("libblas.so.3", out var blas))
        {
            if (NativeLibrary.TryGetExport(blas, "sgemm_", out var address))
            {
                sgemm = (ulong)address;
            }

            NativeLibrary.Free(blas);
        }

        foreach (var line in File.ReadLines(Maps))
        {
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                continue;
            }

            var path = line[slash..];
            var range = line[..line.IndexOf(' ', StringComparison.Ordinal)].Split('-');
            var holdsSgemm = sgemm != 0 && ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture) <= sgemm
                && sgemm < ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (holdsSgemm || (sgemm == 0 && IsBlasFile(Path.GetFileName(path))))
            {
                return Path.Combine(Path.GetFileName(Path.GetDirectoryName(path) ?? string.Empty), Path.GetFileName(path));
            }
        }

        return null;
    }

    private static bool IsBlasFile(string name) =>
        name.StartsWith("libblas.so", StringComparison.Ordinal) || name.StartsWith("libopenblas", StringComparison.Ordinal)
        || name.StartsWith("libmkl_rt", StringComparison.Ordinal) || name.StartsWith("libblis", StringComparison.Ordinal);
}
