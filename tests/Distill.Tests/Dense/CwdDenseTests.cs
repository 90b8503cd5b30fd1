using Distill.Methods;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Dense;

/// <summary>CWD on a segmenter: the tap "logits" (logit maps), the criterion's other normalisations, TorchDistiller's feature align.</summary>
public sealed class CwdDenseTests
{
    private static readonly Dictionary<string, long[]> Logits = new() { ["logits"] = [1, 2, 2, 2] };

    [Fact]
    public void OnTheLogitsTap_TheTermIsWeightTimesTheHandWorkedValue()
    {
        using var scope = DisposeScope.Enter();
        using var cwd = (ChannelWiseDistillation)MethodFactory.Create("cwd", new Dictionary<string, object> { ["student_tap"] = "logits", ["teacher_tap"] = "logits" }, DenseSteps.Context(Logits, Logits));
        var (s, t) = DenseSteps.CwdExample();
        var terms = cwd.ComputeLoss(DenseSteps.Step(s, t));
        Assert.False(cwd.Aligned);
        Assert.Equal(3 * DenseSteps.CwdExampleTau4, terms["cwd"].To(DType.Float64).Item<double>(), 1e-5);
    }

    [Fact]
    public void ChannelNormWithKl_IsTheClassificationGoldensForm_BitForBit()
    {
        using var scope = DisposeScope.Enter();
        var s = Tensor.Randn([2, 3, 4, 5]);
        var t = Tensor.Randn([2, 3, 4, 5]);
        Assert.Equal(ChannelWiseDistillation.Loss(s, t, 4).ToBytes(), ChannelWiseDistillation.Loss(s, t, 4, "channel", "kl").ToBytes());
    }

    [Fact]
    public void SpatialNorm_IsKlOverChannelsAtEachPosition_DividedByNHW()
    {
        using var scope = DisposeScope.Enter();
        var (s, t) = DenseSteps.CwdExample();
        // By hand at τ = 2: per position, softmax over the 2 channels; Σ KL / (N·H·W = 4) · τ².
        double expected = 0;
        var sv = s.To(DType.Float64).ToArray<double>();
        var tv = t.To(DType.Float64).ToArray<double>();
        for (var i = 0; i < 4; i++)
        {
            var (s0, s1, t0, t1) = (sv[i] / 2, sv[4 + i] / 2, tv[i] / 2, tv[4 + i] / 2);
            var ls = Math.Log(Math.Exp(s0) + Math.Exp(s1));
            var lt = Math.Log(Math.Exp(t0) + Math.Exp(t1));
            expected += (Math.Exp(t0 - lt) * ((t0 - lt) - (s0 - ls))) + (Math.Exp(t1 - lt) * ((t1 - lt) - (s1 - ls)));
        }

        Assert.Equal(expected / (1 * 2 * 2) * (2 * 2), ChannelWiseDistillation.Loss(s, t, 2, "spatial", "kl").To(DType.Float64).Item<double>(), 1e-5);
    }

    [Fact]
    public void ChannelMeanWithMse_IsTheSummedSquaresOfTheChannelMeans_AtTemperatureOne()
    {
        using var scope = DisposeScope.Enter();
        var (s, t) = DenseSteps.CwdExample();
        // Means: student 1.5, 1; teacher 1.5, 0.5: (0 + 0.25) / (N·C = 2), τ ignored.
        Assert.Equal(0.125, ChannelWiseDistillation.Loss(s, t, 4, "channel_mean", "mse").To(DType.Float64).Item<double>(), 6);
    }

    [Fact]
    public void ChannelMeanWithKl_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => MethodFactory.Create("cwd", new Dictionary<string, object> { ["student_tap"] = "logits", ["teacher_tap"] = "logits", ["norm"] = "channel_mean" }, DenseSteps.Context(Logits, Logits)));
        Assert.Contains("norm channel_mean needs divergence mse", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnotherNorm_WithDifferentChannelsAndTheConvAlign_IsRefusedNamingBothTaps()
    {
        var context = DenseSteps.Context(new() { ["context"] = [2, 4, 8, 8] }, new() { ["context"] = [2, 6, 8, 8] });
        var e = Assert.Throws<ArgumentException>(() => MethodFactory.Create("cwd", new Dictionary<string, object> { ["student_tap"] = "context", ["teacher_tap"] = "context", ["norm"] = "spatial" }, context));
        Assert.Contains("the student's context has 4 channels and the teacher's context 6: use align=conv_bn_relu", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvBnReluAlign_IsTorchDistillersModule_ConvWithoutBiasBnAndReLU()
    {
        var context = DenseSteps.Context(new() { ["context"] = [2, 4, 8, 8] }, new() { ["context"] = [2, 6, 8, 8] });
        using var cwd = (ChannelWiseDistillation)MethodFactory.Create("cwd", new Dictionary<string, object> { ["student_tap"] = "context", ["teacher_tap"] = "context", ["align"] = "conv_bn_relu" }, context);
        Assert.Equal(["align.0.weight", "align.1.weight", "align.1.bias"], cwd.NamedParameters().Select(p => p.Name));
        Assert.Equal([6L, 4, 1, 1], cwd.NamedParameters().First().Parameter.Shape);
        using var scope = DisposeScope.Enter();
        var loss = cwd.ComputeLoss(DenseSteps.Step(Tensor.Randn([2, 3, 4, 4]), Tensor.Randn([2, 3, 4, 4]),
            new() { ["context"] = Tensor.Randn([2, 4, 8, 8]) }, new() { ["context"] = Tensor.Randn([2, 6, 8, 8]) }))["cwd"];
        Assert.True(double.IsFinite(loss.To(DType.Float64).Item<double>()));
    }

    [Fact]
    public void ConvBnRelu_WithEqualChannels_StillAligns()
    {
        using var cwd = (ChannelWiseDistillation)MethodFactory.Create("cwd", new Dictionary<string, object> { ["student_tap"] = "logits", ["teacher_tap"] = "logits", ["align"] = "conv_bn_relu" }, DenseSteps.Context(Logits, Logits));
        Assert.True(cwd.Aligned);
    }
}
