namespace Distill.Export;

/// <summary>A composite module of the zoo that writes its own forward as ONNX nodes (mirroring its ForwardCore).</summary>
internal interface IOnnxExportable
{
    /// <summary>
    /// Empty (the default) when the graph is declared for the exported image size. Otherwise the graph takes any height
    /// and width: the file declares the input's as "height" and "width" and these output dimensions, by index, under
    /// these names.
    /// </summary>
    IReadOnlyDictionary<int, string> SizeDependentOutputDims => new Dictionary<int, string>();

    /// <summary>Adds the module's nodes applied to the value <paramref name="input"/>; returns the output value's name.</summary>
    string ExportOnnx(OnnxGraph graph, string input);
}
