using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models;

/// <summary>
/// ShuffleNetV1 for CIFAR (mdistiller models/cifar/ShuffleNetv1.py, "ShuffleV1": stages 240/480/960,
/// blocks 4/8/4, groups 3): a 1x1 stem without downsampling, grouped bottlenecks with channel shuffle,
/// and a concatenated AvgPool(3, 2, 1) shortcut in each stage's first (stride-2) block.
/// </summary>
public sealed class ShuffleNetV1 : ClassificationModel, IOnnxExportable
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly ReLU _relu;
    private readonly Sequential[] _layers = new Sequential[3];
    private readonly AdaptiveAvgPool2d _avgPool;
    private readonly Flatten _flatten;
    private readonly Linear _linear;

    /// <summary>Creates the network.</summary>
    public ShuffleNetV1(int numClasses = 100, int inChannels = 3, long[]? outPlanes = null, int[]? blocks = null, long groups = 3)
    {
        outPlanes ??= [240, 480, 960];
        blocks ??= [4, 8, 4];
        _conv1 = RegisterModule("conv1", Blocks.Conv(inChannels, 24, 1));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(24));
        _relu = RegisterModule("relu", new ReLU());
        long inPlanes = 24;
        var stages = new List<(string, string)>();
        for (var s = 0; s < 3; s++)
        {
            var layer = new Sequential();
            for (var i = 0; i < blocks[s]; i++)
            {
                var cat = i == 0 ? inPlanes : 0;
                layer.Add(new Bottleneck(inPlanes, outPlanes[s] - cat, i == 0 ? 2 : 1, groups));
                inPlanes = outPlanes[s];
            }

            _layers[s] = RegisterModule($"layer{s + 1}", layer);
            var last = (blocks[s] - 1).ToString(CultureInfo.InvariantCulture);
            stages.Add(($"layer{s + 1}", $"layer{s + 1}.{last}.preact"));
            AddBnBeforeRelu($"layer{s + 1}.{last}.bn3");
        }

        _avgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        _flatten = RegisterModule("flatten", new Flatten());
        _linear = RegisterModule("linear", new Linear(inPlanes, numClasses));
        AddStandardTaps("relu", stages, "flatten", "linear");
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = _relu.Forward(_bn1.Forward(_conv1.Forward(input)));
        foreach (var layer in _layers)
        {
            x = layer.Forward(x);
        }

        return _linear.Forward(_flatten.Forward(_avgPool.Forward(x)));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var x = graph.Emit(_relu, graph.Emit(_bn1, graph.Emit(_conv1, input)));
        foreach (var layer in _layers)
        {
            x = graph.Emit(layer, x);
        }

        return graph.Emit(_linear, graph.Emit(_flatten, graph.Emit(_avgPool, x)));
    }

    private sealed class Bottleneck : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly Conv2d _conv1;
        private readonly BatchNorm2d _bn1;
        private readonly ChannelShuffle _shuffle1;
        private readonly Conv2d _conv2;
        private readonly BatchNorm2d _bn2;
        private readonly Conv2d _conv3;
        private readonly BatchNorm2d _bn3;
        private readonly AvgPool2d? _shortcut;
        private readonly Identity _preact;
        private readonly ReLU _relu;

        public Bottleneck(long inPlanes, long outPlanes, long stride, long groups)
        {
            var mid = outPlanes / 4;
            var g = inPlanes == 24 ? 1 : groups;
            _conv1 = RegisterModule("conv1", Blocks.Conv(inPlanes, mid, 1, groups: g));
            _bn1 = RegisterModule("bn1", new BatchNorm2d(mid));
            _shuffle1 = RegisterModule("shuffle1", new ChannelShuffle(g));
            _conv2 = RegisterModule("conv2", Blocks.Conv(mid, mid, 3, stride, 1, groups: mid));
            _bn2 = RegisterModule("bn2", new BatchNorm2d(mid));
            _conv3 = RegisterModule("conv3", Blocks.Conv(mid, outPlanes, 1, groups: groups));
            _bn3 = RegisterModule("bn3", new BatchNorm2d(outPlanes));
            if (stride == 2)
            {
                _shortcut = RegisterModule("shortcut", new AvgPool2d(3, 2, 1));
            }

            _preact = RegisterModule("preact", new Identity());
            _relu = RegisterModule("relu", new ReLU());
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var x = _shuffle1.Forward(F.Relu(_bn1.Forward(_conv1.Forward(input))));
            x = F.Relu(_bn2.Forward(_conv2.Forward(x)));
            x = _bn3.Forward(_conv3.Forward(x));
            var pre = _shortcut is null ? x + input : Tensor.Cat([x, _shortcut.Forward(input)], 1);
            return _relu.Forward(_preact.Forward(pre));
        }

        string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
        {
            var path = graph.PathOf(this);
            var x = graph.Emit(_shuffle1, graph.Relu(graph.Emit(_bn1, graph.Emit(_conv1, input)), path));
            x = graph.Relu(graph.Emit(_bn2, graph.Emit(_conv2, x)), path);
            x = graph.Emit(_bn3, graph.Emit(_conv3, x));
            var pre = _shortcut is null ? graph.Add(x, input, path) : graph.Concat([x, graph.Emit(_shortcut, input)], 1, path);
            return graph.Emit(_relu, pre);
        }
    }
}
