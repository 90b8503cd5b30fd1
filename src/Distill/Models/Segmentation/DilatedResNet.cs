using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models.Segmentation;

/// <summary>
/// The backbone of the segmentation networks: a ResNet with torchvision's module names (conv1, bn1, relu, maxpool,
/// layer1..layer4; no avgpool or fc) whose last layers trade their stride for dilation, as torchvision's
/// replace_stride_with_dilation does: layer1..4 have strides 1, 2, 2, 2; a dilated layer runs at stride 1 with the
/// dilation multiplied by the stride it gave up, and its first block keeps the previous dilation (so layer3 of an
/// output-stride-8 network has blocks at 1, 2, 2, ..., layer4 at 2, 4, 4, ...). With
/// <c>dilateEveryBlock</c> the first block takes the layer's dilation too (the Structured KD official code's rule,
/// and the only way a one-block layer is dilated at all). The four layer outputs go to the heads: layer3 to the
/// auxiliary head, layer4 to the context head. Convs are initialised as torchvision's ResNet (Kaiming normal,
/// fan-out), so the ImageNet weights of a torchvision ResNet with the same widths load key for key
/// (<see cref="SegmentationModel.LoadImageNetBackbone(string)"/>).
/// </summary>
public sealed class DilatedResNet : Module
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly ReLU _relu;
    private readonly MaxPool2d? _maxPool;
    private readonly Sequential[] _layers;

    /// <summary>Creates the backbone.</summary>
    /// <param name="inChannels">Image channels.</param>
    /// <param name="stem">The stem: torchvision's (input / 4) or one 3x3 stride-2 conv (input / 2).</param>
    /// <param name="stemWidth">The stem's output channels (64 in torchvision).</param>
    /// <param name="planes">The four layers' inner widths (64, 128, 256, 512 in torchvision; a bottleneck's output is 4 times wider).</param>
    /// <param name="blocks">Blocks per layer ([2, 2, 2, 2] ResNet-18, [3, 4, 6, 3] ResNet-34/50, [3, 4, 23, 3] ResNet-101).</param>
    /// <param name="bottleneck">Bottleneck blocks (ResNet-50/101) or basic blocks (ResNet-18/34).</param>
    /// <param name="outputStride">The input size over the layer4 map size: the stem's factor times 8 (no dilation), or a half or a quarter of it (layer4, or layer3 and layer4, dilated).</param>
    /// <param name="dilateEveryBlock">Whether the first block of a dilated layer takes the layer's dilation instead of the previous one.</param>
    /// <exception cref="ArgumentException">Not four layers, or an output stride the stem and the three stride-2 layers cannot give.</exception>
    public DilatedResNet(int inChannels, ResNetStem stem, long stemWidth, long[] planes, int[] blocks, bool bottleneck, int outputStride, bool dilateEveryBlock = false)
    {
        ArgumentNullException.ThrowIfNull(planes);
        ArgumentNullException.ThrowIfNull(blocks);
        if (planes.Length != 4 || blocks.Length != 4 || blocks.Any(b => b < 1))
        {
            throw new ArgumentException($"a dilated ResNet has 4 layers of at least one block (got {planes.Length} widths and blocks [{string.Join(", ", blocks)}])");
        }

        var stemStride = stem == ResNetStem.TorchVision ? 4 : 2;
        var dilated = outputStride == stemStride * 8 ? 0 : outputStride == stemStride * 4 ? 1 : outputStride == stemStride * 2 ? 2 : -1;
        if (dilated < 0)
        {
            throw new ArgumentException($"output stride {outputStride} is not possible with the {stem} stem (it shrinks by {stemStride}): choose {stemStride * 8}, {stemStride * 4} or {stemStride * 2}", nameof(outputStride));
        }

        OutputStride = outputStride;
        _conv1 = RegisterModule("conv1", stem == ResNetStem.TorchVision ? Blocks.Conv(inChannels, stemWidth, 7, 2, 3) : Blocks.Conv(inChannels, stemWidth, 3, 2, 1));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(stemWidth));
        _relu = RegisterModule("relu", new ReLU());
        if (stem == ResNetStem.TorchVision)
        {
            _maxPool = RegisterModule("maxpool", new MaxPool2d(3, 2, 1));
        }

        var inPlanes = stemWidth;
        var dilation = 1L;
        var channels = new long[4];
        var dilations = new long[4][];
        _layers = new Sequential[4];
        for (var i = 0; i < 4; i++)
        {
            var stride = i == 0 ? 1L : 2L;
            var previous = dilation;
            if (i >= 4 - dilated)
            {
                dilation *= stride;
                stride = 1;
            }

            var layer = new Sequential();
            dilations[i] = new long[blocks[i]];
            for (var b = 0; b < blocks[i]; b++)
            {
                dilations[i][b] = b > 0 || dilateEveryBlock ? dilation : previous;
                var block = new ResidualBlock(inPlanes, planes[i], b == 0 ? stride : 1, bottleneck, dilation: dilations[i][b]);
                layer.Add(block);
                inPlanes = block.OutPlanes;
            }

            _layers[i] = RegisterModule($"layer{i + 1}", layer);
            channels[i] = inPlanes;
        }

        Channels = channels;
        Dilations = dilations;
        BlockCounts = [.. blocks];
        Bottleneck = bottleneck;
        foreach (var (_, m) in NamedModules())
        {
            if (m is Conv2d conv)
            {
                Init.KaimingNormal(conv.Weight, mode: Init.FanMode.FanOut, nonlinearity: "relu");
            }
        }
    }

    /// <summary>torchvision's ResNet-18, 34, 50 or 101 (64-wide 7x7 stem, layer widths 64, 128, 256, 512) at output stride 8 (layer3 and layer4 dilated), 16 (layer4) or 32 (none).</summary>
    /// <exception cref="ArgumentException">Another depth or output stride.</exception>
    public static DilatedResNet TorchVision(int depth, int outputStride = 8, int inChannels = 3)
    {
        (int[] Blocks, bool Bottleneck) layout = depth switch
        {
            18 => ([2, 2, 2, 2], false),
            34 => ([3, 4, 6, 3], false),
            50 => ([3, 4, 6, 3], true),
            101 => ([3, 4, 23, 3], true),
            _ => throw new ArgumentException($"no torchvision ResNet of depth {depth} here (18, 34, 50, 101)", nameof(depth)),
        };
        return new(inChannels, ResNetStem.TorchVision, 64, [64, 128, 256, 512], layout.Blocks, layout.Bottleneck, outputStride);
    }

    /// <summary>The output channels of layer1..layer4.</summary>
    public IReadOnlyList<long> Channels { get; }

    /// <summary>The dilation of each block's 3x3 conv(s), layer by layer.</summary>
    public IReadOnlyList<IReadOnlyList<long>> Dilations { get; }

    /// <summary>Blocks per layer.</summary>
    public IReadOnlyList<int> BlockCounts { get; }

    /// <summary>Whether the blocks are bottlenecks.</summary>
    public bool Bottleneck { get; }

    /// <summary>The input size over the layer4 map size (8 or 16 for the segmentation networks).</summary>
    public int OutputStride { get; }

    /// <summary>The module path (below the backbone) of the ReLU whose output is the stem feature.</summary>
    public static string StemModule => "relu";

    /// <summary>The module path (below the backbone) of layer <paramref name="layer"/> (1..4).</summary>
    public static string LayerModule(int layer) => $"layer{layer}";

    /// <summary>The module path (below the backbone) of layer <paramref name="layer"/>'s residual sum before its final ReLU.</summary>
    public string PreactModule(int layer) => $"layer{layer}.{(BlockCounts[layer - 1] - 1).ToString(CultureInfo.InvariantCulture)}.preact";

    /// <summary>The module path (below the backbone) of the BN feeding layer <paramref name="layer"/>'s final ReLU.</summary>
    public string BnBeforeReluModule(int layer) => $"layer{layer}.{(BlockCounts[layer - 1] - 1).ToString(CultureInfo.InvariantCulture)}.{(Bottleneck ? "bn3" : "bn2")}";

    /// <summary>Runs the stem and the four layers; returns the four layer outputs.</summary>
    public Tensor[] ForwardLayers(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = _relu.Forward(_bn1.Forward(_conv1.Forward(input)));
        if (_maxPool is not null)
        {
            x = _maxPool.Forward(x);
        }

        var outputs = new Tensor[4];
        for (var i = 0; i < 4; i++)
        {
            x = _layers[i].Forward(x);
            outputs[i] = x;
        }

        return outputs;
    }

    /// <summary>
    /// Loads a torchvision ResNet's state dict (conv1.weight, bn1.*, layer1.0.conv1.weight, ..., fc.*) key for key,
    /// fc.* skipped: every key of this backbone must be given (num_batches_tracked may be absent; it stays 0) and
    /// every other given key must be one of its keys; <paramref name="what"/> names the load in errors.
    /// </summary>
    internal StateDictLoadResult LoadTorchVisionState(IReadOnlyDictionary<string, Tensor> state, string what)
    {
        ArgumentNullException.ThrowIfNull(state);
        var kept = state.Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        StateDictLoadResult result;
        try
        {
            result = CheckStateDict(kept, strict: false);
        }
        catch (StateDictMismatchException e)
        {
            throw new StateDictMismatchException(what, e.Result);
        }

        var missing = result.MissingKeys.Where(k => !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToArray();
        if (missing.Length > 0 || result.UnexpectedKeys.Count > 0)
        {
            throw new StateDictMismatchException(what, new StateDictLoadResult(missing, result.UnexpectedKeys, result.ShapeMismatches));
        }

        return LoadStateDict(kept, strict: false);
    }

    /// <summary>The ONNX nodes of <see cref="ForwardLayers"/> up to the last layer; returns the last layer's output.</summary>
    internal string ExportLastLayer(OnnxGraph graph, string input) => ExportLayers(graph, input)[^1];

    /// <summary>The ONNX nodes of <see cref="ForwardLayers"/>; returns the four layers' outputs.</summary>
    internal string[] ExportLayers(OnnxGraph graph, string input)
    {
        var x = graph.Emit(_relu, graph.Emit(_bn1, graph.Emit(_conv1, input)));
        if (_maxPool is not null)
        {
            x = graph.Emit(_maxPool, x);
        }

        var outputs = new string[4];
        for (var i = 0; i < 4; i++)
        {
            x = graph.Emit(_layers[i], x);
            outputs[i] = x;
        }

        return outputs;
    }
}
