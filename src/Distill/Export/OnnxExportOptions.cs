namespace Distill.Export;

/// <summary>How <see cref="OnnxExporter"/> writes a model.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The ONNX opset (the default opset of the standard domain); 17, the only one written.</summary>
    public int Opset { get; init; } = 17;

    /// <summary>Fold each batch norm that directly follows a convolution (and is its only reader) into that convolution's weight and bias; the others stay BatchNormalization nodes.</summary>
    public bool FoldBatchNorm { get; init; }

    /// <summary>The graph input's name.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>The graph output's name.</summary>
    public string OutputName { get; init; } = "logits";

    /// <summary>The symbolic name of the dynamic batch dimension.</summary>
    public string BatchDimension { get; init; } = "batch";
}
