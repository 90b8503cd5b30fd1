using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>Holds libtorch's inference-mode guard; disposing leaves inference mode (LIFO, same thread).</summary>
public sealed class InferenceModeScope : IDisposable
{
    private IntPtr _guard;

    internal InferenceModeScope() => NativeStatus.Check(Native.dt_inference_mode_enter(out _guard));

    /// <summary>Leaves inference mode. Idempotent.</summary>
    public void Dispose()
    {
        if (_guard != IntPtr.Zero)
        {
            var guard = _guard;
            _guard = IntPtr.Zero;
            NativeStatus.Check(Native.dt_guard_free(guard));
        }
    }
}
