namespace Distill.NN.Checkpoints;

/// <summary>A checkpoint file that cannot be read: the message names the file, the byte offset and the tensor. Nothing was loaded.</summary>
public sealed class CheckpointFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    public CheckpointFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public CheckpointFormatException()
    {
    }
}
