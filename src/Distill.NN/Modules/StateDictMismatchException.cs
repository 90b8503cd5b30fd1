namespace Distill.NN;

/// <summary>A state dict that does not fit the model; nothing was copied.</summary>
public sealed class StateDictMismatchException : Exception
{
    /// <summary>Creates the exception with the full report.</summary>
    public StateDictMismatchException(string model, StateDictLoadResult result)
        : base($"the state dict does not fit {model}; nothing was loaded.{Environment.NewLine}{result}") => Result = result;

    /// <summary>Creates an exception with no report.</summary>
    public StateDictMismatchException()
        : this("the model", new StateDictLoadResult([], [], []))
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public StateDictMismatchException(string message)
        : base(message) => Result = new StateDictLoadResult([], [], []);

    /// <summary>Creates an exception with a message and a cause.</summary>
    public StateDictMismatchException(string message, Exception innerException)
        : base(message, innerException) => Result = new StateDictLoadResult([], [], []);

    /// <summary>Every missing, unexpected and mismatched key.</summary>
    public StateDictLoadResult Result { get; }
}
