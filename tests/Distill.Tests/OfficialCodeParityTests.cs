using Distill.Engine;
using Distill.Methods;
using Distill.Parity;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// Details where our methods once differed from the authors' code (issue #11): OFA's projector depth and stage
/// numbers, its timm ViT block, CTKD's DKD warm-up, CWD's two forms, and option aliases given twice.
/// </summary>
public sealed class OfficialCodeParityTests
{
    [Fact]
    public void OfaProjectorDepth_CountsTheNetworksStagesAfterTheChosenOne_AndAcceptsOfficialStageNumbers()
    {
        using var scope = DisposeScope.Enter();
        var context = MethodCheck.ExampleContext();

        // resnet8 has three stages: stage1 needs two SepConvs (the official 4 - stage on a four-stage net), stage3 a 1x1 conv.
        using var ofa = MethodFactory.Create("ofa", new Dictionary<string, object> { ["ofa_stage"] = new[] { "1", "3" } }, context);
        var names = ofa.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Contains("projectors.0.1.0.weight", names);
        Assert.DoesNotContain("projectors.0.2.0.weight", names);
        Assert.Contains("projectors.1.0.bias", names);
        Assert.Equal(["stage1", "stage3"], ofa.StudentTaps);
    }

    [Fact]
    public void OfaTokenProjector_IsTimmsBlock_WithoutQkvBias()
    {
        using var scope = DisposeScope.Enter();
        using var ofa = new OneForAllDistillation(new(), ["stage1"], [[2, 17, 8]], 10, 12);
        var names = ofa.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Contains("projectors.0.0.attn.qkv.weight", names);
        Assert.DoesNotContain("projectors.0.0.attn.qkv.bias", names);
        Assert.Contains("projectors.0.0.attn.proj.bias", names);
        Assert.Contains("projectors.0.0.mlp.fc1.weight", names);
        Assert.Equal([32L, 8], ofa.NamedParameters().Single(p => p.Name == "projectors.0.0.mlp.fc1.weight").Parameter.Shape);
    }

    [Fact]
    public void OfaTokenStage_WiderOrNarrowerThanThePooledSize_IsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => new OneForAllDistillation(new(), ["stage1"], [[2, 17, 8]], 10, 12, studentDim: 6));
        Assert.Contains("8-wide tokens but its pooled size is 6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CtkdWithDkd_HasNoWarmupByDefault_AsTheAuthorsCode()
    {
        using var scope = DisposeScope.Enter();
        using var ctkd = new CurriculumTemperatureDistillation(new() { Base = "dkd" });
        Assert.Equal(0, ctkd.WarmupEpochs);
        using var warm = new CurriculumTemperatureDistillation(new() { Base = "dkd", Warmup = 20 });
        Assert.Equal(20, warm.WarmupEpochs);
    }

    [Fact]
    public void CwdAlignedForm_IsTheCrossEntropyOverTheStudentsChannelCount()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(7);
        var (s, t) = (Tensor.Randn([2, 3, 4, 4], DType.Float64), Tensor.Randn([2, 3, 4, 4], DType.Float64));

        // Cross-entropy = KL + the teacher's entropy; mmdetection-distiller divides by N * C_s (here C_s = 5 before alignment).
        var p = Functional.Softmax(t.Reshape([6, 16]), 1);
        var entropy = -(p * p.Log()).Sum().Item<double>() / 6;
        var kl = ChannelWiseDistillation.Loss(s, t, 1).Item<double>();
        var aligned = ChannelWiseDistillation.AlignedLoss(s, t, 1, 5).Item<double>();
        Assert.Equal((kl + entropy) * 6 / 10, aligned, 1e-12);
    }

    [Fact]
    public void OptionAndItsAliasGivenTogether_IsAnErrorNamingBoth()
    {
        var descriptor = MethodFactory.Find("mgd")!;
        var error = Assert.Throws<ArgumentException>(() => new MethodSettings(descriptor, new Dictionary<string, object> { ["alpha"] = 1.0, ["alpha_mgd"] = 2.0 }));
        Assert.Contains("alpha and alpha_mgd", error.Message, StringComparison.Ordinal);
        Assert.Equal(2.0, new MethodSettings(descriptor, new Dictionary<string, object> { ["alpha_mgd"] = 2.0 }).Number("alpha"));
    }
}
