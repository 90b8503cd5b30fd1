using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>
/// Owns one native at::Tensor. The SafeHandle's finalizer is the only finalizer in the tensor stack; it
/// records a leak report when leak tracking is on and the tensor was not disposed.
/// </summary>
internal sealed class TensorHandle : SafeHandle
{
    /// <summary>Passed for an absent optional tensor (NULL on the native side).</summary>
    internal static readonly TensorHandle Null = new();

    private readonly string? _allocationTrace;
    private bool _disposedExplicitly;

    private TensorHandle()
        : base(IntPtr.Zero, ownsHandle: false)
    {
    }

    internal TensorHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
        TensorTracking.OnCreated();
        if (TensorTracking.TrackAllocations)
        {
            _allocationTrace = Environment.StackTrace;
        }
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Disposes and notes that the owner released it (not the finalizer).</summary>
    internal void Release()
    {
        _disposedExplicitly = true;
        Dispose();
    }

    protected override bool ReleaseHandle()
    {
        if (!_disposedExplicitly)
        {
            TensorTracking.OnFinalized(_allocationTrace);
        }

        TensorTracking.OnReleased();
        return Native.dt_tensor_free(handle) == NativeStatus.Ok;
    }
}
