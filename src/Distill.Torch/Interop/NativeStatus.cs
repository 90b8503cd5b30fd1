using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>Turns a shim status into a <see cref="TorchException"/> carrying the native message.</summary>
internal static unsafe class NativeStatus
{
    internal const int Ok = 0;

    /// <summary>Throws when <paramref name="status"/> is not OK; the throw lives out of line to keep callers small.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Check(int status)
    {
        if (status != Ok)
        {
            Throw();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    private static void Throw() => throw new TorchException(LastError());

    internal static string LastError()
    {
        Native.dt_last_error(out var message);
        return Marshal.PtrToStringUTF8((IntPtr)message) ?? "unknown native error";
    }
}
