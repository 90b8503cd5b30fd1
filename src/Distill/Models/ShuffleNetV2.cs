using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models;

/// <summary>
/// ShuffleNetV2 for CIFAR (mdistiller models/cifar/ShuffleNetv2.py, net size 1: stages 116/232/464 with
/// 3/7/3 basic blocks each after a stride-2 DownBlock, conv 464 -> 1024). As in the original, a stage's
/// preact tap is the unshuffled concatenation before the last block's ReLU.
/// </summary>
public sealed class ShuffleNetV2 : ClassificationModel, IOnnxExportable
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly ReLU _relu;
    private readonly Sequential[] _layers = new Sequential[3];
    private readonly Conv2d _conv2;
    private readonly BatchNorm2d _bn2;
    private readonly AdaptiveAvgPool2d _avgPool;
    private readonly Flatten _flatten;
    private readonly Linear _linear;

    /// <summary>Creates the network (net size 1 by default).</summary>
    public ShuffleNetV2(int numClasses = 100, int inChannels = 3, long[]? outChannels = null, int[]? blocks = null)
    {
        outChannels ??= [116, 232, 464, 1024];
        blocks ??= [3, 7, 3];
        _conv1 = RegisterModule("conv1", Blocks.Conv(inChannels, 24, 1));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(24));
        _relu = RegisterModule("relu", new ReLU());
        long inPlanes = 24;
        var stages = new List<(string, string)>();
        for (var s = 0; s < 3; s++)
        {
            var layer = new Sequential(new DownBlock(inPlanes, outChannels[s]));
            for (var i = 0; i < blocks[s]; i++)
            {
                layer.Add(new BasicBlock(outChannels[s]));
            }

            inPlanes = outChannels[s];
            _layers[s] = RegisterModule($"layer{s + 1}", layer);
            var last = blocks[s].ToString(CultureInfo.InvariantCulture);
            stages.Add(($"layer{s + 1}", $"layer{s + 1}.{last}.preact"));
            AddBnBeforeRelu($"layer{s + 1}.{last}.bn3");
        }

        _conv2 = RegisterModule("conv2", Blocks.Conv(inPlanes, outChannels[3], 1));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels[3]));
        _avgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        _flatten = RegisterModule("flatten", new Flatten());
        _linear = RegisterModule("linear", new Linear(outChannels[3], numClasses));
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

        x = F.Relu(_bn2.Forward(_conv2.Forward(x)));
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

        x = graph.Relu(graph.Emit(_bn2, graph.Emit(_conv2, x)), graph.PathOf(this));
        return graph.Emit(_linear, graph.Emit(_flatten, graph.Emit(_avgPool, x)));
    }

    private sealed class BasicBlock : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly long _half;
        private readonly Conv2d _conv1;
        private readonly BatchNorm2d _bn1;
        private readonly Conv2d _conv2;
        private readonly BatchNorm2d _bn2;
        private readonly Conv2d _conv3;
        private readonly BatchNorm2d _bn3;
        private readonly Identity _preact;
        private readonly ChannelShuffle _shuffle;

        public BasicBlock(long channels)
        {
            _half = channels / 2;
            _conv1 = RegisterModule("conv1", Blocks.Conv(_half, _half, 1));
            _bn1 = RegisterModule("bn1", new BatchNorm2d(_half));
            _conv2 = RegisterModule("conv2", Blocks.Conv(_half, _half, 3, 1, 1, groups: _half));
            _bn2 = RegisterModule("bn2", new BatchNorm2d(_half));
            _conv3 = RegisterModule("conv3", Blocks.Conv(_half, _half, 1));
            _bn3 = RegisterModule("bn3", new BatchNorm2d(_half));
            _preact = RegisterModule("preact", new Identity());
            _shuffle = RegisterModule("shuffle", new ChannelShuffle(2));
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var x1 = input.Narrow(1, 0, _half);
            var x2 = input.Narrow(1, _half, input.Size(1) - _half);
            var branch = _bn3.Forward(_conv3.Forward(_bn2.Forward(_conv2.Forward(F.Relu(_bn1.Forward(_conv1.Forward(x2)))))));
            _preact.Forward(Tensor.Cat([x1, branch], 1));
            return _shuffle.Forward(Tensor.Cat([x1, F.Relu(branch)], 1));
        }

        string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
        {
            var path = graph.PathOf(this);
            var x1 = graph.Narrow(input, 1, 0, _half, path);
            var x2 = graph.NarrowToEnd(input, 1, _half, path);
            var branch = graph.Emit(_bn3, graph.Emit(_conv3, graph.Emit(_bn2, graph.Emit(_conv2, graph.Relu(graph.Emit(_bn1, graph.Emit(_conv1, x2)), path)))));
            return graph.Emit(_shuffle, graph.Concat([x1, graph.Relu(branch, path)], 1, path));
        }
    }

    private sealed class DownBlock : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly Conv2d _conv1;
        private readonly BatchNorm2d _bn1;
        private readonly Conv2d _conv2;
        private readonly BatchNorm2d _bn2;
        private readonly Conv2d _conv3;
        private readonly BatchNorm2d _bn3;
        private readonly Conv2d _conv4;
        private readonly BatchNorm2d _bn4;
        private readonly Conv2d _conv5;
        private readonly BatchNorm2d _bn5;
        private readonly ChannelShuffle _shuffle;

        public DownBlock(long input, long output)
        {
            var mid = output / 2;
            _conv1 = RegisterModule("conv1", Blocks.Conv(input, input, 3, 2, 1, groups: input));
            _bn1 = RegisterModule("bn1", new BatchNorm2d(input));
            _conv2 = RegisterModule("conv2", Blocks.Conv(input, mid, 1));
            _bn2 = RegisterModule("bn2", new BatchNorm2d(mid));
            _conv3 = RegisterModule("conv3", Blocks.Conv(input, mid, 1));
            _bn3 = RegisterModule("bn3", new BatchNorm2d(mid));
            _conv4 = RegisterModule("conv4", Blocks.Conv(mid, mid, 3, 2, 1, groups: mid));
            _bn4 = RegisterModule("bn4", new BatchNorm2d(mid));
            _conv5 = RegisterModule("conv5", Blocks.Conv(mid, mid, 1));
            _bn5 = RegisterModule("bn5", new BatchNorm2d(mid));
            _shuffle = RegisterModule("shuffle", new ChannelShuffle(2));
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var left = F.Relu(_bn2.Forward(_conv2.Forward(_bn1.Forward(_conv1.Forward(input)))));
            var right = F.Relu(_bn3.Forward(_conv3.Forward(input)));
            right = F.Relu(_bn5.Forward(_conv5.Forward(_bn4.Forward(_conv4.Forward(right)))));
            return _shuffle.Forward(Tensor.Cat([left, right], 1));
        }

        string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
        {
            var path = graph.PathOf(this);
            var left = graph.Relu(graph.Emit(_bn2, graph.Emit(_conv2, graph.Emit(_bn1, graph.Emit(_conv1, input)))), path);
            var right = graph.Relu(graph.Emit(_bn3, graph.Emit(_conv3, input)), path);
            right = graph.Relu(graph.Emit(_bn5, graph.Emit(_conv5, graph.Emit(_bn4, graph.Emit(_conv4, right)))), path);
            return graph.Emit(_shuffle, graph.Concat([left, right], 1, path));
        }
    }
}
