using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>Owns one native at::Generator.</summary>
internal sealed class GeneratorHandle : SafeHandle
{
    internal static readonly GeneratorHandle Null = new();

    private GeneratorHandle()
        : base(IntPtr.Zero, ownsHandle: false)
    {
    }

    internal GeneratorHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => Native.dt_generator_free(handle) == NativeStatus.Ok;
}
