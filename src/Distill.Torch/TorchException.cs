namespace Distill.Torch;

/// <summary>
/// An error reported by libtorch through the shim. The message names the op and the shapes of its
/// inputs, then libtorch's own explanation. The process and every other tensor stay usable.
/// </summary>
public sealed class TorchException : Exception
{
    /// <summary>Creates an exception with the native message.</summary>
    public TorchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with no message.</summary>
    public TorchException()
    {
    }

    /// <summary>Creates an exception wrapping another.</summary>
    public TorchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
