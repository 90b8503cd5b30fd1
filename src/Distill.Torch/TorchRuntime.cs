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

    /// <summary>Seeds the global CPU generator and every CUDA device's (torch.manual_seed).</summary>
    public static void ManualSeed(ulong seed) => NativeStatus.Check(Native.dt_manual_seed(seed));

    /// <summary>The global CPU generator's state as a UInt8 tensor (torch.get_rng_state), for checkpoints.</summary>
    public static Tensor GetRngState() => Tensor.Wrap(Native.dt_global_rng_get_state(out var r), r);

    /// <summary>Restores a state from <see cref="GetRngState"/> (torch.set_rng_state).</summary>
    public static void SetRngState(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        NativeStatus.Check(Native.dt_global_rng_set_state(state.Handle));
    }
}
