using Distill.Export;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// MobileNetV1 as mdistiller's ImageNet students use it (models/imagenet/mobilenetv1.py): "model" holds a
/// strided conv-BN-ReLU and 13 depthwise-separable blocks (conv_dw: dw 3x3-BN-ReLU, 1x1-BN-ReLU), then "fc".
/// Stage taps are blocks 3, 5, 11 and 13 (128, 256, 512, 1024 channels); their preact is the block's last BN.
/// </summary>
public sealed class MobileNetV1 : ClassificationModel, IOnnxExportable
{
    private readonly Sequential _model;
    private readonly AdaptiveAvgPool2d _avgPool;
    private readonly Flatten _flatten;
    private readonly Linear _fc;

    /// <summary>Creates the network.</summary>
    public MobileNetV1(int numClasses = 1000, int inChannels = 3)
    {
        (long In, long Out, long Stride)[] depthwise =
        [
            (32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2),
            (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 1024, 2), (1024, 1024, 1),
        ];
        _model = new Sequential(Blocks.ConvBnRelu(inChannels, 32, 3, 2, 1));
        foreach (var (i, o, s) in depthwise)
        {
            _model.Add(new Sequential(
                Blocks.Conv(i, i, 3, s, 1, groups: i), new BatchNorm2d(i), new ReLU(),
                Blocks.Conv(i, o, 1), new BatchNorm2d(o), new ReLU()));
        }

        RegisterModule("model", _model);
        _avgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        _flatten = RegisterModule("flatten", new Flatten());
        _fc = RegisterModule("fc", new Linear(1024, numClasses));
        AddStandardTaps("model.0", [("model.3", "model.3.4"), ("model.5", "model.5.4"), ("model.11", "model.11.4"), ("model.13", "model.13.4")], "flatten", "fc");
        foreach (var block in new[] { 3, 5, 11, 13 })
        {
            AddBnBeforeRelu($"model.{block}.4");
        }
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => _fc.Forward(_flatten.Forward(_avgPool.Forward(_model.Forward(input))));

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) =>
        graph.Emit(_fc, graph.Emit(_flatten, graph.Emit(_avgPool, graph.Emit(_model, input))));
}
