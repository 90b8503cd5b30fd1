namespace Distill.Torch;

/// <summary>A Distill setting read from the environment (a DISTILL_* variable, or a launcher's such as RANK or MASTER_PORT) holds a value Distill cannot use; the message names the variable, its value and the values allowed.</summary>
public sealed class EnvironmentSettingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EnvironmentSettingException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public EnvironmentSettingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public EnvironmentSettingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
