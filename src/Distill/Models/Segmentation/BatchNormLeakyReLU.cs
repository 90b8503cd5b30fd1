using Distill.Export;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models.Segmentation;

/// <summary>
/// Batch norm followed by a leaky ReLU of slope 0.01: what the PSPNet head of the Structured KD and CWD official
/// code gets from its in-place activated batch norm (InPlaceABNSync with the library's default activation). One
/// module owning the BN's weight, bias and running statistics, so its keys sit where the official module's do.
/// </summary>
public sealed class BatchNormLeakyReLU : BatchNorm, IOnnxExportable
{
    /// <summary>Creates the layer (eps 1e-5, momentum 0.1, as the official module's defaults).</summary>
    /// <param name="numFeatures">Channels.</param>
    /// <param name="negativeSlope">The leaky ReLU's slope below zero.</param>
    public BatchNormLeakyReLU(long numFeatures, double negativeSlope = 0.01)
        : base(numFeatures, 1e-5, 0.1, affine: true, trackRunningStats: true, [4]) => NegativeSlope = negativeSlope;

    /// <summary>The slope below zero.</summary>
    public double NegativeSlope { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.LeakyRelu(base.ForwardCore(input), NegativeSlope);

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) =>
        graph.Node("LeakyRelu", [graph.BatchNorm(this, input)], graph.PathOf(this), OnnxGraph.Attr("alpha", (float)NegativeSlope));
}
