namespace Distill.Export;

/// <summary>A composite module of the zoo that writes its own forward as ONNX nodes (mirroring its ForwardCore).</summary>
internal interface IOnnxExportable
{
    /// <summary>
    /// The output dimensions, by index, that follow the image size, under the names the file declares them with when
    /// the graph takes any height and width. Empty (the default): a classifier's output has none, a dense [B, C, h, w]
    /// output gets "out_height" and "out_width".
    /// </summary>
    IReadOnlyDictionary<int, string> SizeDependentOutputDims => new Dictionary<int, string>();

    /// <summary>Adds the module's nodes applied to the value <paramref name="input"/>; returns the output value's name.</summary>
    string ExportOnnx(OnnxGraph graph, string input);
}
