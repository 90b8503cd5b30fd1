using Distill.Export;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models.Segmentation;

/// <summary>
/// DeepLabV3 with torchvision's layout and state_dict keys (torchvision's deeplabv3_resnet50/101 weights load key
/// for key): "backbone" (<see cref="DilatedResNet"/>), "classifier" = DeepLabHead: <see cref="AtrousSpatialPyramidPooling"/>
/// (classifier.0), 3x3 conv + BN + ReLU (classifier.1-3), 1x1 conv to the classes (classifier.4); "aux_classifier" =
/// FCNHead on layer3: 3x3 conv to a quarter of layer3's channels + BN + ReLU + Dropout(0.1) + 1x1 conv. The heads
/// keep PyTorch's default initialisation, as torchvision's do. Taps: "context" is classifier.3 (the head's feature
/// before the 1x1 classifier; this head has no dropout there), "logits" classifier.4, "aux_logits" aux_classifier.4.
/// </summary>
public sealed class DeepLabV3 : SegmentationModel, IOnnxExportable
{
    private readonly Sequential _classifier;
    private readonly Sequential? _auxClassifier;

    /// <summary>Creates the network on <paramref name="backbone"/>.</summary>
    /// <param name="backbone">The backbone (registered as "backbone").</param>
    /// <param name="numClasses">Classes.</param>
    /// <param name="atrousRates">ASPP's 3x3 dilations; (12, 24, 36) when null.</param>
    /// <param name="headChannels">ASPP's and the head's channels (256 in torchvision).</param>
    /// <param name="auxiliary">Whether to add the FCN head on layer3.</param>
    public DeepLabV3(DilatedResNet backbone, int numClasses, IReadOnlyList<int>? atrousRates = null, long headChannels = 256, bool auxiliary = true)
        : base(backbone, numClasses, auxiliary)
    {
        var c3 = backbone.Channels[2];
        var c4 = backbone.Channels[3];
        _classifier = RegisterModule("classifier", new Sequential(
            new AtrousSpatialPyramidPooling(c4, atrousRates ?? DefaultAtrousRates, headChannels),
            Blocks.Conv(headChannels, headChannels, 3, 1, 1), new BatchNorm2d(headChannels), new ReLU(),
            new Conv2d(headChannels, numClasses, 1)));
        if (auxiliary)
        {
            var inner = c3 / 4;
            _auxClassifier = RegisterModule("aux_classifier", new Sequential(
                Blocks.Conv(c3, inner, 3, 1, 1), new BatchNorm2d(inner), new ReLU(), new Dropout(0.1), new Conv2d(inner, numClasses, 1)));
        }

        PublishTaps("classifier.3", "classifier.4", auxiliary ? "aux_classifier.4" : null, auxiliary ? "aux_classifier" : null);
    }

    /// <summary>torchvision's ASPP rates: 12, 24, 36.</summary>
    public static IReadOnlyList<int> DefaultAtrousRates { get; } = [12, 24, 36];

    /// <summary>DeepLabV3 on torchvision's ResNet-18, 34, 50 or 101 at output stride 8 or 16, with the FCN aux head.</summary>
    /// <exception cref="ArgumentException">Another depth or output stride.</exception>
    public static DeepLabV3 OnResNet(int depth, int numClasses, int inChannels = 3, int outputStride = 8) =>
        new(DilatedResNet.TorchVision(depth, outputStride, inChannels), numClasses);

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var layers = Backbone.ForwardLayers(input);
        _auxClassifier?.Forward(layers[2]);
        return _classifier.Forward(layers[3]);
    }

    /// <inheritdoc />
    /// <remarks>The auxiliary head feeds only the taps, so the file has the main output alone.</remarks>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) => graph.Emit(_classifier, Backbone.ExportLastLayer(graph, input));
}
