using Distill.Export;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// A MobileNetV2 inverted residual around a prepared "conv" sequence (expand, depthwise, project): the
/// CIFAR and torchvision variants differ only in that sequence. The input is added when the stride is 1
/// and the width does not change.
/// </summary>
internal sealed class InvertedResidual : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential _conv;
    private readonly bool _residual;

    public InvertedResidual(Sequential conv, long input, long output, long stride)
    {
        _conv = RegisterModule("conv", conv);
        _residual = stride == 1 && input == output;
    }

    protected override Tensor ForwardCore(Tensor input) => _residual ? input + _conv.Forward(input) : _conv.Forward(input);

    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) =>
        _residual ? graph.Add(input, graph.Emit(_conv, input), graph.PathOf(this)) : graph.Emit(_conv, input);
}
