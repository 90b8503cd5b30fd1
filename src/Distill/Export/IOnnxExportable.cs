namespace Distill.Export;

/// <summary>A composite module of the zoo that writes its own forward as ONNX nodes (mirroring its ForwardCore).</summary>
internal interface IOnnxExportable
{
    /// <summary>Adds the module's nodes applied to the value <paramref name="input"/>; returns the output value's name.</summary>
    string ExportOnnx(OnnxGraph graph, string input);
}
