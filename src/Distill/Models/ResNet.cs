using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// Residual networks of three layouts, with their original state_dict names:
/// mdistiller's CIFAR resnet.py (3x3 stem, 3 stages, "downsample", "fc": resnet8 ... resnet110, resnet8x4, resnet32x4),
/// resnetv2.py (3x3 stem, 4 stages 64-512, "shortcut", "linear": the CIFAR ResNet50), and torchvision's
/// ImageNet ResNet (7x7 stride-2 stem, max pool, 4 stages, "downsample", "fc": ResNet18/34/50).
/// Global average pooling is adaptive, which equals the original AvgPool(8) on 32x32 inputs and also
/// runs on 28x28 Fashion-MNIST.
/// </summary>
public sealed class ResNet : ClassificationModel, IOnnxExportable
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly ReLU _relu;
    private readonly MaxPool2d? _maxPool;
    private readonly Sequential[] _stages;
    private readonly AdaptiveAvgPool2d _avgPool;
    private readonly Flatten _flatten;
    private readonly Linear _classifier;

    private ResNet(ResNetLayout layout, long[] widths, int[] blocks, bool bottleneck, int numClasses, int inChannels)
    {
        var imageNet = layout == ResNetLayout.TorchVision;
        _conv1 = RegisterModule("conv1", imageNet ? Blocks.Conv(inChannels, widths[0], 7, 2, 3) : Blocks.Conv(inChannels, widths[0], 3, 1, 1));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(widths[0]));
        _relu = RegisterModule("relu", new ReLU());
        if (imageNet)
        {
            _maxPool = RegisterModule("maxpool", new MaxPool2d(3, 2, 1));
        }

        var projection = layout == ResNetLayout.CifarV2 ? "shortcut" : "downsample";
        var inPlanes = widths[0];
        _stages = new Sequential[blocks.Length];
        var stageTaps = new List<(string, string)>();
        for (var s = 0; s < blocks.Length; s++)
        {
            var stage = new Sequential();
            for (var b = 0; b < blocks[s]; b++)
            {
                var block = new ResidualBlock(inPlanes, widths[s + 1], b == 0 && s > 0 ? 2 : 1, bottleneck, projection);
                stage.Add(block);
                inPlanes = block.OutPlanes;
            }

            var name = $"layer{s + 1}";
            _stages[s] = RegisterModule(name, stage);
            var last = (blocks[s] - 1).ToString(CultureInfo.InvariantCulture);
            stageTaps.Add((name, $"{name}.{last}.preact"));
            AddBnBeforeRelu($"{name}.{last}.{(bottleneck ? "bn3" : "bn2")}");
        }

        _avgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        _flatten = RegisterModule("flatten", new Flatten());
        var classifier = layout == ResNetLayout.CifarV2 ? "linear" : "fc";
        _classifier = RegisterModule(classifier, new Linear(inPlanes, numClasses));
        foreach (var (_, m) in NamedModules())
        {
            if (m is Conv2d conv)
            {
                Init.KaimingNormal(conv.Weight, mode: Init.FanMode.FanOut, nonlinearity: "relu");
            }
        }

        AddStandardTaps("relu", stageTaps, "flatten", classifier);
    }

    /// <summary>The three ResNet layouts.</summary>
    public enum ResNetLayout
    {
        /// <summary>mdistiller models/cifar/resnet.py.</summary>
        Cifar,

        /// <summary>mdistiller models/cifar/resnetv2.py.</summary>
        CifarV2,

        /// <summary>torchvision.models.resnet.</summary>
        TorchVision,
    }

    /// <summary>A CIFAR ResNet of depth 6n+2 with stem width and three stage widths (resnet8 ... resnet110, x4 variants).</summary>
    public static ResNet Cifar(int depth, long[] filters, int numClasses = 100, int inChannels = 3)
    {
        ArgumentNullException.ThrowIfNull(filters);
        if ((depth - 2) % 6 != 0 || depth < 8 || filters.Length != 4)
        {
            throw new ArgumentException($"a CIFAR ResNet has depth 6n+2 (got {depth}) and 4 widths (got {filters.Length})");
        }

        var n = (depth - 2) / 6;
        return new ResNet(ResNetLayout.Cifar, filters, [n, n, n], bottleneck: false, numClasses, inChannels);
    }

    /// <summary>resnetv2.py's ResNet18 (basic) or ResNet50 (bottleneck) for 32x32 inputs.</summary>
    public static ResNet CifarV2(int[] blocks, bool bottleneck, int numClasses = 100, int inChannels = 3) =>
        new(ResNetLayout.CifarV2, [64, 64, 128, 256, 512], blocks, bottleneck, numClasses, inChannels);

    /// <summary>torchvision's ImageNet ResNet (ResNet18: [2,2,2,2] basic; 34: [3,4,6,3] basic; 50: [3,4,6,3] bottleneck).</summary>
    public static ResNet TorchVision(int[] blocks, bool bottleneck, int numClasses = 1000, int inChannels = 3) =>
        new(ResNetLayout.TorchVision, [64, 64, 128, 256, 512], blocks, bottleneck, numClasses, inChannels);

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = _relu.Forward(_bn1.Forward(_conv1.Forward(input)));
        if (_maxPool is not null)
        {
            x = _maxPool.Forward(x);
        }

        foreach (var stage in _stages)
        {
            x = stage.Forward(x);
        }

        return _classifier.Forward(_flatten.Forward(_avgPool.Forward(x)));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var x = graph.Emit(_relu, graph.Emit(_bn1, graph.Emit(_conv1, input)));
        if (_maxPool is not null)
        {
            x = graph.Emit(_maxPool, x);
        }

        foreach (var stage in _stages)
        {
            x = graph.Emit(stage, x);
        }

        return graph.Emit(_classifier, graph.Emit(_flatten, graph.Emit(_avgPool, x)));
    }
}
