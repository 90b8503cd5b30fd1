using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models;

/// <summary>
/// VGG with batch norm for CIFAR (mdistiller models/cifar/vgg.py): five blocks of conv3x3(bias)-BN-ReLU
/// whose last ReLU is applied outside the block (modules relu0..relu4, so the pre-ReLU output is the
/// stage's preact tap), max pools after blocks 0-2 (and 3 for 64x64 inputs), adaptive pool, classifier.
/// </summary>
public sealed class Vgg : ClassificationModel, IOnnxExportable
{
    private readonly Sequential[] _blocks = new Sequential[5];
    private readonly ReLU[] _relus = new ReLU[5];
    private readonly MaxPool2d[] _pools = new MaxPool2d[4];
    private readonly AdaptiveAvgPool2d _pool4;
    private readonly Flatten _flatten;
    private readonly Linear _classifier;

    /// <summary>Creates a VGG from five blocks' conv widths (e.g. vgg13: [64,64],[128,128],[256,256],[512,512],[512,512]).</summary>
    public Vgg(int[][] config, int numClasses = 100, int inChannels = 3)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Length != 5)
        {
            throw new ArgumentException($"VGG has 5 blocks; got {config.Length}", nameof(config));
        }

        long input = inChannels;
        for (var b = 0; b < 5; b++)
        {
            var block = new Sequential();
            for (var i = 0; i < config[b].Length; i++)
            {
                block.Add(new Conv2d(input, config[b][i], 3, padding: 1));
                block.Add(new BatchNorm2d(config[b][i]));
                if (i < config[b].Length - 1)
                {
                    block.Add(new ReLU());
                }

                input = config[b][i];
            }

            _blocks[b] = RegisterModule($"block{b}", block);
        }

        for (var p = 0; p < 4; p++)
        {
            _pools[p] = RegisterModule($"pool{p}", new MaxPool2d(2, 2));
        }

        _pool4 = RegisterModule("pool4", new AdaptiveAvgPool2d(1));
        for (var b = 0; b < 5; b++)
        {
            _relus[b] = RegisterModule($"relu{b}", new ReLU());
        }

        _flatten = RegisterModule("flatten", new Flatten());
        _classifier = RegisterModule("classifier", new Linear(input, numClasses));
        Blocks.InitializeLikeMdistiller(this, linearStd: 0.01);

        AddTap("stem", "relu0");
        for (var b = 1; b < 5; b++)
        {
            AddTap($"stage{b}", $"relu{b}");
            AddTap($"stage{b}.preact", $"block{b}");
            var last = (_blocks[b].Count - 1).ToString(CultureInfo.InvariantCulture);
            AddBnBeforeRelu($"block{b}.{last}");
        }

        AddTap("pooled", "flatten");
        AddTap("logits", "classifier");
    }

    /// <summary>The standard configurations by name: vgg8, vgg11, vgg13, vgg16, vgg19.</summary>
    public static int[][] Config(string name) => name switch
    {
        "vgg8" => [[64], [128], [256], [512], [512]],
        "vgg11" => [[64], [128], [256, 256], [512, 512], [512, 512]],
        "vgg13" => [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
        "vgg16" => [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
        "vgg19" => [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
        _ => throw new ArgumentException($"unknown VGG '{name}' (vgg8, vgg11, vgg13, vgg16, vgg19)", nameof(name)),
    };

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var h = input.Size(2);
        var x = _relus[0].Forward(_blocks[0].Forward(input));
        x = _pools[0].Forward(x);
        x = _relus[1].Forward(_blocks[1].Forward(x));
        x = _pools[1].Forward(x);
        x = _relus[2].Forward(_blocks[2].Forward(x));
        x = _pools[2].Forward(x);
        x = _relus[3].Forward(_blocks[3].Forward(x));
        if (h == 64)
        {
            x = _pools[3].Forward(x);
        }

        x = _relus[4].Forward(_blocks[4].Forward(x));
        return _classifier.Forward(_flatten.Forward(_pool4.Forward(x)));
    }

    /// <inheritdoc />
    /// <remarks>The fourth max pool depends on the input height (64 or not): an If node on the height read at run time, so one file serves every size.</remarks>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var x = input;
        for (var b = 0; b < 5; b++)
        {
            x = graph.Emit(_relus[b], graph.Emit(_blocks[b], x));
            if (b < 3)
            {
                x = graph.Emit(_pools[b], x);
            }
            else if (b == 3)
            {
                var path = graph.PathOf(_pools[3]);
                var height = graph.Node("Gather", [graph.Node("Shape", [input], path), graph.Int64Scalar(path + ".height_axis", 2)], path, OnnxGraph.Attr("axis", 0L));
                var is64 = graph.Node("Equal", [height, graph.Int64Scalar(path + ".pooled_height", 64)], path);
                var unpooled = x;
                x = graph.If(is64, () => graph.Emit(_pools[3], unpooled), () => unpooled, path);
            }
        }

        return graph.Emit(_classifier, graph.Emit(_flatten, graph.Emit(_pool4, x)));
    }
}
