using Distill.Export;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models.Segmentation;

/// <summary>
/// The image-pooling branch of <see cref="AtrousSpatialPyramidPooling"/> (torchvision's ASPPPooling): global
/// average pool, 1x1 conv, BN, ReLU (children "0".."3"), resized back to the input's height and width bilinearly
/// with align_corners=False.
/// </summary>
public sealed class AsppPooling : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly AdaptiveAvgPool2d _pool;
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _bn;
    private readonly ReLU _relu;

    /// <summary>Creates the branch.</summary>
    public AsppPooling(long inChannels, long outChannels)
    {
        _pool = RegisterModule("0", new AdaptiveAvgPool2d(1));
        _conv = RegisterModule("1", Blocks.Conv(inChannels, outChannels, 1));
        _bn = RegisterModule("2", new BatchNorm2d(outChannels));
        _relu = RegisterModule("3", new ReLU());
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var pooled = _relu.Forward(_bn.Forward(_conv.Forward(_pool.Forward(input))));
        return F.Interpolate(pooled, input.Size(2), input.Size(3), InterpolationMode.Bilinear, alignCorners: false);
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var pooled = graph.Emit(_relu, graph.Emit(_bn, graph.Emit(_conv, graph.Emit(_pool, input))));
        return graph.ResizeBilinear(pooled, input, alignCorners: false, graph.PathOf(this));
    }
}
