namespace Distill.Engine.SoftLabels;

/// <summary>A soft-label store that cannot be used: missing, corrupt or truncated, or built from another teacher, data set or transforms (the message names what differs).</summary>
public sealed class SoftLabelStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SoftLabelStoreException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SoftLabelStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public SoftLabelStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
