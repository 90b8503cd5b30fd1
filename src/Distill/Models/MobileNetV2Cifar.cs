using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// MobileNetV2 for CIFAR (mdistiller models/cifar/mobilenetv2.py; "mobile_half" is expansion 6, width 0.5)
/// with its names: conv1, blocks.i.j.conv.{0..7}, conv2, classifier.0. Blocks end in a BN without ReLU
/// (linear bottleneck), so each stage's preact tap is the stage output itself.
/// </summary>
public sealed class MobileNetV2Cifar : ClassificationModel, IOnnxExportable
{
    private static readonly int[][] Settings = [[1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
    private readonly Sequential _conv1;
    private readonly ModuleList _blocks;
    private readonly Sequential _conv2;
    private readonly AdaptiveAvgPool2d _avgPool;
    private readonly Flatten _flatten;
    private readonly Sequential _classifier;

    /// <summary>Creates the network; the first setting's expansion is always 1.</summary>
    public MobileNetV2Cifar(int expansion = 6, double widthMultiplier = 0.5, int numClasses = 100, int inChannels = 3)
    {
        long input = (int)(32 * widthMultiplier);
        _conv1 = RegisterModule("conv1", Blocks.ConvBnRelu(inChannels, input, 3, 2, 1));
        _blocks = RegisterModule("blocks", new ModuleList());
        foreach (var s in Settings)
        {
            var t = s[0] == 1 ? 1 : expansion;
            var output = (long)(int)(s[1] * widthMultiplier);
            var stage = new Sequential();
            for (var i = 0; i < s[2]; i++)
            {
                stage.Add(Block(input, output, i == 0 ? s[3] : 1, t));
                input = output;
            }

            _blocks.Add(stage);
        }

        const long LastChannel = 1280;
        _conv2 = RegisterModule("conv2", Blocks.ConvBnRelu(input, LastChannel, 1));
        _avgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        _flatten = RegisterModule("flatten", new Flatten());
        _classifier = RegisterModule("classifier", new Sequential(new Linear(LastChannel, numClasses)));
        Blocks.InitializeLikeMdistiller(this, linearStd: 0.01);

        AddTap("stem", "conv1");
        var stageBlocks = new[] { 1, 2, 4, 6 };
        for (var i = 0; i < stageBlocks.Length; i++)
        {
            var path = $"blocks.{stageBlocks[i]}";
            AddTap($"stage{i + 1}", path);
            AddTap($"stage{i + 1}.preact", path);
            var last = (Settings[stageBlocks[i]][2] - 1).ToString(CultureInfo.InvariantCulture);
            AddBnBeforeRelu($"{path}.{last}.conv.7");
        }

        AddTap("pooled", "flatten");
        AddTap("logits", "classifier");
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = _conv1.Forward(input);
        foreach (var stage in _blocks)
        {
            x = ((Sequential)stage).Forward(x);
        }

        return _classifier.Forward(_flatten.Forward(_avgPool.Forward(_conv2.Forward(x))));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var x = graph.Emit(_conv1, input);
        foreach (var stage in _blocks)
        {
            x = graph.Emit(stage, x);
        }

        return graph.Emit(_classifier, graph.Emit(_flatten, graph.Emit(_avgPool, graph.Emit(_conv2, x))));
    }

    /// <summary>mobilenetv2.py's layers, the 1x1 expansion kept even for t = 1: pw-BN-ReLU, dw-BN-ReLU, pw, BN.</summary>
    private static InvertedResidual Block(long input, long output, long stride, long expansion)
    {
        var hidden = input * expansion;
        return new InvertedResidual(new Sequential(
            Blocks.Conv(input, hidden, 1), new BatchNorm2d(hidden), new ReLU(),
            Blocks.Conv(hidden, hidden, 3, stride, 1, groups: hidden), new BatchNorm2d(hidden), new ReLU(),
            Blocks.Conv(hidden, output, 1), new BatchNorm2d(output)), input, output, stride);
    }
}
