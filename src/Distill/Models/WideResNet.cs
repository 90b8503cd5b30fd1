using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models;

/// <summary>
/// Wide ResNet WRN-d-w for CIFAR (mdistiller models/cifar/wrn.py, pre-activation, dropout 0), with its
/// names: conv1, block1..3.layer.i.{bn1, conv1, bn2, conv2, convShortcut}, bn1, fc. Taps (the zoo's convention, `distill inspect`):
/// stages are the raw group outputs; stage i's preact is the BN that the next group (or the head) applies to it.
/// </summary>
public sealed class WideResNet : ClassificationModel, IOnnxExportable
{
    private readonly Conv2d _conv1;
    private readonly Sequential[] _groups;
    private readonly BatchNorm2d _bn1;
    private readonly ReLU _relu;
    private readonly AdaptiveAvgPool2d _avgPool;
    private readonly Flatten _flatten;
    private readonly Linear _fc;

    /// <summary>Creates WRN-depth-widen (depth = 6n + 4).</summary>
    public WideResNet(int depth, int widen, int numClasses = 100, int inChannels = 3)
    {
        if ((depth - 4) % 6 != 0 || depth < 10)
        {
            throw new ArgumentException($"a WRN has depth 6n+4; got {depth}", nameof(depth));
        }

        var n = (depth - 4) / 6;
        long[] channels = [16, 16 * widen, 32 * widen, 64 * widen];
        _conv1 = RegisterModule("conv1", Blocks.Conv(inChannels, channels[0], 3, 1, 1));
        _groups = new Sequential[3];
        for (var g = 0; g < 3; g++)
        {
            var group = new Sequential();
            for (var i = 0; i < n; i++)
            {
                group.Add(new PreActBlock(i == 0 ? channels[g] : channels[g + 1], channels[g + 1], i == 0 && g > 0 ? 2 : 1));
            }

            _groups[g] = RegisterModule($"block{g + 1}", new GroupHolder(group)).Layer;
        }

        _bn1 = RegisterModule("bn1", new BatchNorm2d(channels[3]));
        _relu = RegisterModule("relu", new ReLU());
        _avgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        _flatten = RegisterModule("flatten", new Flatten());
        _fc = RegisterModule("fc", new Linear(channels[3], numClasses));
        Blocks.InitializeLikeMdistiller(this, linearStd: null);
        AddStandardTaps("conv1", [("block1.layer", "block2.layer.0.bn1"), ("block2.layer", "block3.layer.0.bn1"), ("block3.layer", "bn1")], "flatten", "fc");
        AddBnBeforeRelu("block2.layer.0.bn1");
        AddBnBeforeRelu("block3.layer.0.bn1");
        AddBnBeforeRelu("bn1");
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = _conv1.Forward(input);
        foreach (var g in _groups)
        {
            x = g.Forward(x);
        }

        return _fc.Forward(_flatten.Forward(_avgPool.Forward(_relu.Forward(_bn1.Forward(x)))));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var x = graph.Emit(_conv1, input);
        foreach (var g in _groups)
        {
            x = graph.Emit(g, x);
        }

        return graph.Emit(_fc, graph.Emit(_flatten, graph.Emit(_avgPool, graph.Emit(_relu, graph.Emit(_bn1, x)))));
    }

    /// <summary>wrn.py's NetworkBlock: holds the blocks as "layer".</summary>
    private sealed class GroupHolder : Module
    {
        public GroupHolder(Sequential layer) => Layer = RegisterModule("layer", layer);

        public Sequential Layer { get; }
    }

    /// <summary>wrn.py's BasicBlock.</summary>
    private sealed class PreActBlock : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly BatchNorm2d _bn1;
        private readonly Conv2d _conv1;
        private readonly BatchNorm2d _bn2;
        private readonly Conv2d _conv2;
        private readonly Conv2d? _shortcut;

        public PreActBlock(long inPlanes, long outPlanes, long stride)
        {
            _bn1 = RegisterModule("bn1", new BatchNorm2d(inPlanes));
            _conv1 = RegisterModule("conv1", Blocks.Conv(inPlanes, outPlanes, 3, stride, 1));
            _bn2 = RegisterModule("bn2", new BatchNorm2d(outPlanes));
            _conv2 = RegisterModule("conv2", Blocks.Conv(outPlanes, outPlanes, 3, 1, 1));
            if (inPlanes != outPlanes)
            {
                _shortcut = RegisterModule("convShortcut", Blocks.Conv(inPlanes, outPlanes, 1, stride));
            }
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var activated = F.Relu(_bn1.Forward(input));
            var branch = _conv2.Forward(F.Relu(_bn2.Forward(_conv1.Forward(activated))));
            return (_shortcut is null ? input : _shortcut.Forward(activated)) + branch;
        }

        string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
        {
            var path = graph.PathOf(this);
            var activated = graph.Relu(graph.Emit(_bn1, input), path);
            var branch = graph.Emit(_conv2, graph.Relu(graph.Emit(_bn2, graph.Emit(_conv1, activated)), path));
            return graph.Add(_shortcut is null ? input : graph.Emit(_shortcut, activated), branch, path);
        }
    }
}
