using Distill.Models;
using Distill.NN;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

public sealed class ModelTapTests
{
    public static TheoryData<string> AllModels
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var (name, _) in ModelRegistry.Names)
            {
                data.Add(name);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void EveryModel_PublishesTheStandardTaps_AndItsBnBeforeReluModulesAreBatchNorms(string name)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create(name);
        var taps = model.Taps.Select(t => t.Name).ToArray();
        Assert.Contains("stem", taps);
        Assert.Contains("stage1", taps);
        Assert.Contains("stage1.preact", taps);
        Assert.Contains("pooled", taps);
        Assert.Contains("logits", taps);
        foreach (var tap in model.Taps)
        {
            Assert.NotNull(model.GetSubmodule(tap.ModulePath));
        }

        if (!name.StartsWith("vit", StringComparison.Ordinal))
        {
            Assert.NotEmpty(model.BnBeforeRelu);
        }

        Assert.All(model.BnBeforeRelu, path => Assert.IsType<BatchNorm2d>(model.GetSubmodule(path)));
    }

    [Theory]
    [InlineData("resnet20", 3, 32, 32, "stage3", new long[] { 1, 64, 8, 8 })]
    [InlineData("resnet20", 1, 28, 28, "stage3", new long[] { 1, 64, 7, 7 })]
    [InlineData("resnet8x4", 3, 32, 32, "stage1.preact", new long[] { 1, 64, 32, 32 })]
    [InlineData("wrn_40_2", 3, 32, 32, "stage2", new long[] { 1, 64, 16, 16 })]
    [InlineData("vgg13", 3, 32, 32, "stage4", new long[] { 1, 512, 4, 4 })]
    [InlineData("vgg13", 3, 64, 64, "stage4", new long[] { 1, 512, 4, 4 })]
    [InlineData("mobilenetv2_half", 3, 32, 32, "stage4", new long[] { 1, 160, 2, 2 })]
    [InlineData("mobilenetv2_half", 1, 28, 28, "stage4", new long[] { 1, 160, 2, 2 })]
    [InlineData("resnet50_cifar", 3, 32, 32, "stage4", new long[] { 1, 2048, 4, 4 })]
    [InlineData("resnet18", 3, 224, 224, "stage4", new long[] { 1, 512, 7, 7 })]
    [InlineData("resnet18", 3, 64, 64, "pooled", new long[] { 1, 512 })]
    [InlineData("shufflenetv1", 3, 32, 32, "stage3", new long[] { 1, 960, 4, 4 })]
    [InlineData("shufflenetv2", 3, 32, 32, "stage3.preact", new long[] { 1, 464, 4, 4 })]
    [InlineData("mobilenetv1", 3, 224, 224, "stage4", new long[] { 1, 1024, 7, 7 })]
    [InlineData("mobilenetv2", 3, 224, 224, "stage4", new long[] { 1, 320, 7, 7 })]
    [InlineData("vit_tiny", 3, 32, 32, "stage2", new long[] { 1, 65, 192 })]
    [InlineData("vit_tiny", 3, 32, 32, "stem", new long[] { 1, 192, 8, 8 })]
    public void DryRun_GivesEachTapsShape_ForTheInputSize(string name, int channels, int height, int width, string tap, long[] expected)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create(name, new ModelOptions(100, channels));
        var shapes = model.DryRun(channels, height, width);
        Assert.Equal(expected, shapes.Single(s => s.Tap == tap).Shape);
        Assert.True(model.IsTraining);
    }

    [Fact]
    public void UnknownModelOrTap_ErrorsListWhatExists()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => ModelRegistry.Create("resnet9"));
        Assert.Contains("resnet8", e.Message, StringComparison.Ordinal);
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        var t = Assert.Throws<KeyNotFoundException>(() => model.TapFeatures("stage9"));
        Assert.Contains("stage3.preact", t.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Taps_RecordTheStageOutputs_AfterReluTheyAreNonNegative()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        using var taps = model.TapFeatures("stage2", "stage2.preact", "logits");
        var logits = model.Forward(Tensor.Randn([2, 3, 32, 32]));
        Assert.True(taps["stage2"].Min().Item<float>() >= 0);
        Assert.True(taps["stage2.preact"].Min().Item<float>() < 0);
        Assert.True(taps["logits"].IsSameAs(logits) || taps["logits"].Eq(logits).All().Item<bool>());
    }

    [Fact]
    public void TappedFeature_CarriesGradientsIntoTheStudent()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        using var taps = model.TapFeatures("stage1");
        model.Forward(Tensor.Randn([2, 3, 32, 32]));
        taps["stage1"].Pow(2L).Mean().Backward();
        using var grad = ((Distill.NN.Conv2d)model.GetSubmodule("conv1")).Weight.Grad;
        Assert.NotNull(grad);
        Assert.True(grad!.Abs().Sum().Item<float>() > 0);
    }

    [Fact]
    public void Forward_ReleasesItsTemporaries_LeavingOnlyTheOutputInTheCallersScope()
    {
        using var model = ModelRegistry.Create("resnet20");
        using var scope = DisposeScope.Enter();
        var input = Tensor.Randn([1, 3, 32, 32]);
        using (Autograd.NoGrad())
        {
            model.Forward(input);
        }

        Assert.Equal(2, scope.Count);
    }
}
