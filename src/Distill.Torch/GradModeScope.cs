using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>Sets the thread's grad mode and restores the previous mode when disposed (LIFO, same thread).</summary>
public sealed class GradModeScope : IDisposable
{
    private readonly bool _previous;
    private bool _disposed;

    internal GradModeScope(bool enabled)
    {
        _previous = Autograd.IsGradEnabled;
        NativeStatus.Check(Native.dt_set_grad_enabled(enabled ? 1 : 0));
    }

    /// <summary>Restores the grad mode that was in force before. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeStatus.Check(Native.dt_set_grad_enabled(_previous ? 1 : 0));
    }
}
