using Distill.Export;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models.Segmentation;

/// <summary>
/// PSPNet with the head of the Structured KD (and CWD) official code and its names: "pspmodule"
/// (<see cref="PyramidPoolingModule"/>, pool sizes 1, 2, 3, 6), "head" (1x1 conv with bias to the classes) and the
/// deep-supervision head "dsn" on layer3 (3x3 conv with bias + <see cref="BatchNormLeakyReLU"/> + Dropout2d(0.1) +
/// 1x1 conv). The backbone is torchvision's ResNet (7x7 stem and max pool, torchvision's dilation rule), not the
/// official code's three-conv deep stem with a ceil-mode max pool, so ImageNet torchvision weights load
/// (<see cref="SegmentationModel.LoadImageNetBackbone(string)"/>). Taps: "context" is pspmodule.bottleneck.1 (the
/// pyramid feature before its Dropout2d; the official forward returns it after the dropout), "logits" head,
/// "aux_logits" dsn.3.
/// </summary>
public sealed class PspNet : SegmentationModel, IOnnxExportable
{
    private readonly PyramidPoolingModule _pspModule;
    private readonly Conv2d _head;
    private readonly Sequential? _dsn;

    /// <summary>Creates the network on <paramref name="backbone"/>.</summary>
    /// <param name="backbone">The backbone (registered as "backbone").</param>
    /// <param name="numClasses">Classes.</param>
    /// <param name="headChannels">The pyramid branches' and output's channels, and the dsn head's (512 for ResNet-101, 128 for ResNet-18 in the official code).</param>
    /// <param name="poolSizes">The pyramid's grid sizes; (1, 2, 3, 6) when null.</param>
    /// <param name="auxiliary">Whether to add the dsn head on layer3.</param>
    public PspNet(DilatedResNet backbone, int numClasses, long headChannels, IReadOnlyList<int>? poolSizes = null, bool auxiliary = true)
        : base(backbone, numClasses, auxiliary)
    {
        _pspModule = RegisterModule("pspmodule", new PyramidPoolingModule(backbone.Channels[3], headChannels, poolSizes ?? DefaultPoolSizes));
        _head = RegisterModule("head", new Conv2d(headChannels, numClasses, 1));
        if (auxiliary)
        {
            _dsn = RegisterModule("dsn", new Sequential(
                new Conv2d(backbone.Channels[2], headChannels, 3, 1, 1), new BatchNormLeakyReLU(headChannels), new Dropout2d(0.1), new Conv2d(headChannels, numClasses, 1)));
        }

        PublishTaps("pspmodule.bottleneck.1", "head", auxiliary ? "dsn.3" : null, auxiliary ? "dsn" : null);
    }

    /// <summary>The pyramid's grid sizes: 1, 2, 3, 6.</summary>
    public static IReadOnlyList<int> DefaultPoolSizes { get; } = [1, 2, 3, 6];

    /// <summary>PSPNet on torchvision's ResNet-18, 34, 50 or 101 with the official code's head widths (a quarter of layer4's channels: 128 for ResNet-18/34, 512 for ResNet-50/101).</summary>
    /// <exception cref="ArgumentException">Another depth or output stride.</exception>
    public static PspNet OnResNet(int depth, int numClasses, int inChannels = 3, int outputStride = 8)
    {
        var backbone = DilatedResNet.TorchVision(depth, outputStride, inChannels);
        return new(backbone, numClasses, backbone.Channels[3] / 4);
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var layers = Backbone.ForwardLayers(input);
        _dsn?.Forward(layers[2]);
        return _head.Forward(_pspModule.Forward(layers[3]));
    }

    /// <inheritdoc />
    /// <remarks>The auxiliary head feeds only the taps, so the file has the main output alone.</remarks>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) => graph.Emit(_head, graph.Emit(_pspModule, Backbone.ExportLastLayer(graph, input)));
}
