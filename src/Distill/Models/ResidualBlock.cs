using Distill.Export;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models;

/// <summary>
/// A post-activation residual block, basic (two 3x3 convs) or bottleneck (1x1, 3x3 with the stride,
/// 1x1 x4), with a 1x1 conv + BN projection when the stride or width changes. Parameter names follow
/// mdistiller and torchvision (conv1, bn1, ..., and "downsample" or "shortcut" for the projection). The
/// residual sum passes through the parameterless module "preact" before the final ReLU, so it can be tapped.
/// A dilation (segmentation backbones) dilates the bottleneck's 3x3 conv, as torchvision's Bottleneck does, or both
/// 3x3 convs of a basic block, as the basic block of the Structured KD official code does (torchvision's basic
/// block takes no dilation); each dilated 3x3 conv is padded by its dilation, so the size is kept.
/// </summary>
public sealed class ResidualBlock : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly Conv2d _conv2;
    private readonly BatchNorm2d _bn2;
    private readonly Conv2d? _conv3;
    private readonly BatchNorm2d? _bn3;
    private readonly Sequential? _projection;
    private readonly Identity _preact;
    private readonly ReLU _relu;

    /// <summary>Creates the block.</summary>
    /// <param name="inPlanes">Input channels.</param>
    /// <param name="planes">Inner channels (output is planes, or 4 x planes for a bottleneck).</param>
    /// <param name="stride">Stride of the 3x3 conv.</param>
    /// <param name="bottleneck">Bottleneck (expansion 4) or basic block.</param>
    /// <param name="projectionName">The projection's name: "downsample" (resnet.py, torchvision) or "shortcut" (resnetv2.py).</param>
    /// <param name="dilation">Dilation of the 3x3 conv(s); 1 for the classifiers.</param>
    public ResidualBlock(long inPlanes, long planes, long stride, bool bottleneck, string projectionName = "downsample", long dilation = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        OutPlanes = bottleneck ? planes * 4 : planes;
        if (bottleneck)
        {
            _conv1 = RegisterModule("conv1", Blocks.Conv(inPlanes, planes, 1));
            _bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
            _conv2 = RegisterModule("conv2", Blocks.Conv(planes, planes, 3, stride, dilation, dilation: dilation));
            _bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
            _conv3 = RegisterModule("conv3", Blocks.Conv(planes, OutPlanes, 1));
            _bn3 = RegisterModule("bn3", new BatchNorm2d(OutPlanes));
        }
        else
        {
            _conv1 = RegisterModule("conv1", Blocks.Conv(inPlanes, planes, 3, stride, dilation, dilation: dilation));
            _bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
            _conv2 = RegisterModule("conv2", Blocks.Conv(planes, planes, 3, 1, dilation, dilation: dilation));
            _bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        }

        if (stride != 1 || inPlanes != OutPlanes)
        {
            _projection = RegisterModule(projectionName, new Sequential(Blocks.Conv(inPlanes, OutPlanes, 1, stride), new BatchNorm2d(OutPlanes)));
        }

        _preact = RegisterModule("preact", new Identity());
        _relu = RegisterModule("relu", new ReLU());
    }

    /// <summary>Output channels.</summary>
    public long OutPlanes { get; }

    /// <summary>The name of the BN before the final ReLU: bn2, or bn3 for a bottleneck.</summary>
    public string LastBnName => _bn3 is null ? "bn2" : "bn3";

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = F.Relu(_bn1.Forward(_conv1.Forward(input)));
        x = _bn2.Forward(_conv2.Forward(x));
        if (_conv3 is not null)
        {
            x = _bn3!.Forward(_conv3.Forward(F.Relu(x)));
        }

        var residual = _projection is null ? input : _projection.Forward(input);
        return _relu.Forward(_preact.Forward(x + residual));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var path = graph.PathOf(this);
        var x = graph.Relu(graph.Emit(_bn1, graph.Emit(_conv1, input)), path);
        x = graph.Emit(_bn2, graph.Emit(_conv2, x));
        if (_conv3 is not null)
        {
            x = graph.Emit(_bn3!, graph.Emit(_conv3, graph.Relu(x, path)));
        }

        var residual = _projection is null ? input : graph.Emit(_projection, input);
        return graph.Emit(_relu, graph.Add(x, residual, path));
    }
}
