using Distill.Export;
using Distill.Models.Segmentation;
using Distill.NN;
using Distill.NN.Checkpoints;
using Distill.Torch;

namespace Distill.Models.Detection;

/// <summary>
/// FCOS: a ResNet "backbone" with torchvision's names (a <see cref="DilatedResNet"/> without dilation), a
/// <see cref="FeaturePyramid"/> "fpn" on layer2..layer4 and a shared <see cref="FcosHead"/> "head". The forward returns
/// one tensor [B, L, K + 5]: L the locations of every level (finest first, row-major), channels the K class logits,
/// the (l, t, r, b) distances in units of the level's stride (ReLU of the scaled regression, in training and at test;
/// decoders multiply by the stride) and the centerness logit. <see cref="Levels"/> gives the strides, sizes and
/// scale ranges for an input size. Taps: stem, stage1..stage4 and their preact, "fpn.pN" per level, and per level
/// "cls_tower.pN", "reg_tower.pN" (the towers' outputs) and "cls_logits.pN" ([B, K, H, W]). Exported to ONNX it
/// gives the same [B, L, K + 5] for any batch and image size (L depends on the size; decoding stays outside the graph).
/// </summary>
public sealed class FcosDetector : TappedModel<Tensor>, IOnnxExportable
{
    /// <summary>The module path of the backbone.</summary>
    public const string BackbonePath = "backbone";

    /// <summary>The module path of the feature pyramid.</summary>
    public const string FpnPath = "fpn";

    /// <summary>The module path of the head.</summary>
    public const string HeadPath = "head";

    private readonly FeaturePyramid _fpn;
    private readonly FcosHead _head;
    private readonly int[] _strides;
    private readonly (double Min, double Max)[] _scaleRanges;

    /// <summary>Creates the network.</summary>
    /// <param name="backbone">The backbone; its layer2..layer4 feed the pyramid.</param>
    /// <param name="numClasses">Classes K.</param>
    /// <param name="stemStride">The stride of the backbone's stem (4 for torchvision's, 2 for the 3x3 stem): layer2 is at twice it.</param>
    /// <param name="fpnChannels">The pyramid's and the head's width.</param>
    /// <param name="extraLevels">Whether the pyramid adds P6 and P7.</param>
    /// <param name="headConvs">Convs per head tower.</param>
    /// <param name="groups">GroupNorm groups in the towers.</param>
    /// <param name="centernessOnRegression">Whether centerness reads the regression tower.</param>
    /// <param name="scaleRanges">Per level the scale range on max(l, t, r, b) in pixels, both ends inclusive.</param>
    /// <exception cref="ArgumentException">Scale ranges that do not match the levels.</exception>
    public FcosDetector(DilatedResNet backbone, int numClasses, int stemStride, long fpnChannels, bool extraLevels, int headConvs, int groups,
        bool centernessOnRegression, IReadOnlyList<(double Min, double Max)> scaleRanges)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(scaleRanges);
        Backbone = RegisterModule(BackbonePath, backbone);
        var firstLevel = (int)Math.Log2(stemStride * 2);
        _fpn = RegisterModule(FpnPath, new FeaturePyramid([.. backbone.Channels.Skip(1)], fpnChannels, firstLevel, extraLevels));
        var names = _fpn.LevelNames;
        if (scaleRanges.Count != names.Count)
        {
            throw new ArgumentException($"FCOS on levels {string.Join(", ", names)} needs {names.Count} scale ranges, got {scaleRanges.Count}", nameof(scaleRanges));
        }

        _head = RegisterModule(HeadPath, new FcosHead(fpnChannels, numClasses, names, headConvs, groups, centernessOnRegression));
        _strides = [.. Enumerable.Range(0, names.Count).Select(i => 1 << (firstLevel + i))];
        _scaleRanges = [.. scaleRanges];
        NumClasses = numClasses;

        var prefix = BackbonePath + ".";
        AddStageTaps(prefix + DilatedResNet.StemModule,
            [.. Enumerable.Range(1, 4).Select(i => (prefix + DilatedResNet.LayerModule(i), prefix + backbone.PreactModule(i)))]);
        foreach (var name in names)
        {
            AddTap($"fpn.{name}", $"{FpnPath}.{_fpn.LevelModule(name)}");
        }

        foreach (var name in names)
        {
            AddTap($"cls_tower.{name}", $"{HeadPath}.{FcosHead.LevelTapModule(name, "cls_tower")}");
            AddTap($"reg_tower.{name}", $"{HeadPath}.{FcosHead.LevelTapModule(name, "reg_tower")}");
            AddTap($"cls_logits.{name}", $"{HeadPath}.{FcosHead.LevelTapModule(name, "cls_logits")}");
        }

        AddHead("classifier", $"{HeadPath}.cls_logits");
        for (var i = 1; i <= 4; i++)
        {
            AddBnBeforeRelu(prefix + backbone.BnBeforeReluModule(i));
        }
    }

    /// <summary>COCO's scale ranges for P3..P7: [-1, 64], [64, 128], [128, 256], [256, 512], [512, 1e8].</summary>
    public static IReadOnlyList<(double Min, double Max)> CocoScaleRanges { get; } = [(-1, 64), (64, 128), (128, 256), (256, 512), (512, 1e8)];

    /// <inheritdoc />
    public override bool InputSizeVaries => true;

    /// <summary>Classes K.</summary>
    public int NumClasses { get; }

    /// <summary>The backbone.</summary>
    public DilatedResNet Backbone { get; }

    /// <summary>The pyramid levels' names, finest first.</summary>
    public IReadOnlyList<string> LevelNames => _fpn.LevelNames;

    /// <summary>The pyramid levels' strides, finest first.</summary>
    public IReadOnlyList<int> Strides => _strides;

    /// <summary>The levels of an input of <paramref name="height"/> x <paramref name="width"/>: names, strides, map sizes, scale ranges.</summary>
    public FcosLevels Levels(int height, int width) => FcosLevels.ForInput(height, width, LevelNames, _strides, _scaleRanges);

    /// <summary>
    /// Loads a torchvision ResNet's ImageNet weights (safetensors, keys conv1.weight, ..., fc.*) into the backbone key
    /// for key, fc.* skipped; the pyramid and head keep theirs.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file cannot be read or is not safetensors; the message names it.</exception>
    /// <exception cref="StateDictMismatchException">Missing, unexpected or mismatched keys; nothing was loaded, the message lists them and names the file.</exception>
    public StateDictLoadResult LoadImageNetBackbone(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(path);
        return Backbone.LoadTorchVisionState(file.Tensors, $"{GetType().Name}'s backbone from {path} (torchvision ResNet keys, fc.* skipped)");
    }

    /// <inheritdoc />
    IReadOnlyDictionary<int, string> IOnnxExportable.SizeDependentOutputDims => new Dictionary<int, string> { [1] = "locations" };

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) =>
        graph.Concat(_head.ExportOnnx(graph, _fpn.ExportOnnx(graph, Backbone.ExportLayers(graph, input)[1..])), 1, HeadPath);

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var layers = Backbone.ForwardLayers(input);
        var levels = _fpn.Forward(layers[1..]);
        return Tensor.Cat(_head.Forward(levels), 1);
    }
}
