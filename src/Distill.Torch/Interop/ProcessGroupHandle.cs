using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>Owns one native Gloo process group (and, through it, its rendezvous store).</summary>
internal sealed class ProcessGroupHandle : SafeHandle
{
    internal ProcessGroupHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => Native.dt_pg_free(handle) == NativeStatus.Ok;
}
