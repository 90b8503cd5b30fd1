using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// torchvision's MobileNetV2 (width 1.0) with its state_dict names: features.0 (conv-BN-ReLU6), features.1..17
/// inverted residuals ("conv": [dw block, pw conv, BN] for expansion 1, else [pw block, dw block, pw conv, BN]),
/// features.18 (1x1 to 1280), classifier (dropout 0.2, linear). Stage taps are the last block at each
/// resolution after the first (features.3, 6, 13, 17); blocks end in a BN, so preact is the stage itself.
/// </summary>
public sealed class MobileNetV2 : ClassificationModel, IOnnxExportable
{
    private static readonly int[][] Settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
    private readonly Sequential _features;
    private readonly AdaptiveAvgPool2d _avgPool;
    private readonly Flatten _flatten;
    private readonly Sequential _classifier;

    /// <summary>Creates the network with torchvision's initialisation.</summary>
    public MobileNetV2(int numClasses = 1000, int inChannels = 3, double dropout = 0.2)
    {
        long input = 32;
        _features = new Sequential(Blocks.ConvBnRelu(inChannels, input, 3, 2, 1, relu6: true));
        foreach (var s in Settings)
        {
            for (var i = 0; i < s[2]; i++)
            {
                _features.Add(Block(input, s[1], i == 0 ? s[3] : 1, s[0]));
                input = s[1];
            }
        }

        _features.Add(Blocks.ConvBnRelu(input, 1280, 1, relu6: true));
        RegisterModule("features", _features);
        _avgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        _flatten = RegisterModule("flatten", new Flatten());
        _classifier = RegisterModule("classifier", new Sequential(new Dropout(dropout), new Linear(1280, numClasses)));
        foreach (var (_, m) in NamedModules())
        {
            switch (m)
            {
                case Conv2d conv:
                    Init.KaimingNormal(conv.Weight, mode: Init.FanMode.FanOut);
                    break;
                case Linear linear:
                    Init.Normal(linear.Weight, 0, 0.01);
                    Init.Zeros(linear.Bias!);
                    break;
            }
        }

        var stages = new[] { 3, 6, 13, 17 };
        AddStandardTaps("features.0", stages.Select(i => ($"features.{i}", $"features.{i}")).ToArray(), "flatten", "classifier");
        foreach (var i in stages)
        {
            AddBnBeforeRelu($"features.{i.ToString(CultureInfo.InvariantCulture)}.conv.3");
        }
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => _classifier.Forward(_flatten.Forward(_avgPool.Forward(_features.Forward(input))));

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) =>
        graph.Emit(_classifier, graph.Emit(_flatten, graph.Emit(_avgPool, graph.Emit(_features, input))));

    /// <summary>torchvision's layers: [pw conv-BN-ReLU6 (expansion > 1)], dw conv-BN-ReLU6, pw conv, BN.</summary>
    private static InvertedResidual Block(long input, long output, long stride, long expansion)
    {
        var hidden = input * expansion;
        var layers = new List<Module<Tensor, Tensor>>();
        if (expansion != 1)
        {
            layers.Add(Blocks.ConvBnRelu(input, hidden, 1, relu6: true));
        }

        layers.Add(Blocks.ConvBnRelu(hidden, hidden, 3, stride, 1, groups: hidden, relu6: true));
        layers.Add(Blocks.Conv(hidden, output, 1));
        layers.Add(new BatchNorm2d(output));
        return new InvertedResidual(new Sequential(layers), input, output, stride);
    }
}
