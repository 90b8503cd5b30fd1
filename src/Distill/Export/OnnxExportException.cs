namespace Distill.Export;

/// <summary>A model cannot be exported to ONNX; <see cref="ModulePath"/> names the module that has no mapping.</summary>
public sealed class OnnxExportException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OnnxExportException()
    {
        ModulePath = string.Empty;
    }

    /// <summary>Creates the exception with a message.</summary>
    public OnnxExportException(string message)
        : base(message)
    {
        ModulePath = string.Empty;
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public OnnxExportException(string message, Exception innerException)
        : base(message, innerException)
    {
        ModulePath = string.Empty;
    }

    /// <summary>Creates the exception for the module at <paramref name="modulePath"/>.</summary>
    public OnnxExportException(string modulePath, string message)
        : base(message)
    {
        ModulePath = modulePath;
    }

    /// <summary>The dotted path of the module that cannot be exported (empty when the problem is not one module's).</summary>
    public string ModulePath { get; }
}
