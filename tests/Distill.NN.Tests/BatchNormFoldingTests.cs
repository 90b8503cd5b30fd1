using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>
/// Batch-norm folding against torch.nn.utils.fusion.fuse_conv_bn_eval (eng/golden/bn_folding.py): the same folded
/// weight, bias and output; and which pairs may be folded.
/// </summary>
public sealed class BatchNormFoldingTests
{
    private static readonly JsonFixture Golden = new("bn_folding.json");

    private static readonly Dictionary<string, Func<Conv2d>> Convs = new()
    {
        ["conv_bias"] = () => new Conv2d(3, 8, 3, stride: 2, padding: 1),
        ["conv_groups_nobias"] = () => new Conv2d(4, 6, 3, padding: 1, groups: 2, bias: false),
    };

    public static TheoryData<string> Names => Golden.Names();

    /// <summary>
    /// The fused weight is w * s and the bias (b - mean) * s + beta with s = gamma / sqrt(var + eps): PyTorch rounds each
    /// of those few float32 ops, we compute in float64 and round once, so the two differ by a few ulps (4 chained
    /// elementwise ops). The folded output is one convolution (a reduction over its fan-in) plus those ops.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Fold_ConvThenEvalBatchNorm_GivesPyTorchsFusedWeightBiasAndOutput(string name)
    {
        var golden = Golden.Root.GetProperty(name);
        using var scope = DisposeScope.Enter();
        var conv = Convs[name]();
        using var model = new Sequential(conv, new BatchNorm2d(conv.OutChannels));
        var state = golden.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => GoldenTensor.Parse(p.Value).ToTensor(), StringComparer.Ordinal);
        model.LoadStateDict(state);
        model.Eval();
        model.Freeze();
        var input = GoldenTensor.Parse(golden.GetProperty("input")).ToTensor();
        using var noGrad = Autograd.NoGrad();

        var pairs = BatchNormFolding.FindPairs(model, () => model.Forward(input), new HashSet<string>());
        Assert.Equal([("0", "1")], pairs);
        Assert.Equal(1, BatchNormFolding.Fold(model, pairs));

        var elementwise = GoldenTolerance.Float32Elementwise(4, $"{name} folded parameters");
        GoldenTensor.Parse(golden.GetProperty("folded_weight")).AssertMatches(conv.Weight, $"{name} folded weight", elementwise);
        GoldenTensor.Parse(golden.GetProperty("folded_bias")).AssertMatches(conv.Bias!, $"{name} folded bias", elementwise);
        Assert.False(conv.Bias!.RequiresGrad);
        Assert.Contains("0.bias", model.StateDict().Keys);
        var fanIn = conv.Weight.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        var output = model.Forward(input);
        GoldenTensor.Parse(golden.GetProperty("output")).AssertMatches(output, $"{name} folded output against conv then batch norm", GoldenTolerance.Float32Chain([fanIn, 1, 1, 1, 1], name));
        GoldenTensor.Parse(golden.GetProperty("folded_output")).AssertMatches(output, $"{name} folded output against PyTorch's fused conv", GoldenTolerance.Float32Chain([fanIn, 1, 1, 1, 1], name));
    }

    [Fact]
    public void FindPairs_LeavesAConvolutionWhoseOutputIsKept()
    {
        using var scope = DisposeScope.Enter();
        using var model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Conv2d(2, 2, 1), new BatchNorm2d(2));
        model.Eval();
        var input = Tensor.Randn([1, 1, 5, 5]);
        using var noGrad = Autograd.NoGrad();
        Assert.Equal([("0", "1"), ("2", "3")], BatchNormFolding.FindPairs(model, () => model.Forward(input), new HashSet<string>()));
        Assert.Equal([("2", "3")], BatchNormFolding.FindPairs(model, () => model.Forward(input), new HashSet<string> { "0" }));
    }

    [Fact]
    public void FindPairs_SkipsABatchNormAfterAnotherLayerOrWithoutRunningStatistics()
    {
        using var scope = DisposeScope.Enter();
        using var model = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new BatchNorm2d(2), new Conv2d(2, 2, 1), new BatchNorm2d(2, trackRunningStats: false));
        model.Eval();
        var input = Tensor.Randn([1, 1, 5, 5]);
        using var noGrad = Autograd.NoGrad();
        Assert.Empty(BatchNormFolding.FindPairs(model, () => model.Forward(input), new HashSet<string>()));
    }

    [Fact]
    public void FoldedBatchNorm_PassesItsInputThroughInEval_AndRefusesTraining()
    {
        using var scope = DisposeScope.Enter();
        using var model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2));
        model.Eval();
        var input = Tensor.Randn([1, 1, 5, 5]);
        using (Autograd.NoGrad())
        {
            BatchNormFolding.Fold(model, BatchNormFolding.FindPairs(model, () => model.Forward(input), new HashSet<string>()));
        }

        var bn = (BatchNorm2d)model[1];
        Assert.Same(model[0], bn.FoldedInto);
        var map = Tensor.Randn([1, 2, 3, 3]);
        Assert.Same(map, bn.Forward(map));
        model.Train();
        var e = Assert.Throws<InvalidOperationException>(() => model.Forward(input));
        Assert.Contains("folded", e.Message, StringComparison.Ordinal);
    }
}
