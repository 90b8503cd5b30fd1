using Distill.Models.Segmentation;
using Distill.NN;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Segmentation;

/// <summary>
/// What every segmentation network promises the task and the methods: the published taps with their shapes, logits at
/// ceil(H / output stride) x ceil(W / output stride) for any input size, torchvision's dilation rule, and the registry's
/// names and errors.
/// </summary>
public sealed class ModelsShapeAndTapTests
{
    private static readonly string[] StageTaps =
    [
        SegmentationModel.StemTap, SegmentationModel.Stage1Tap, SegmentationModel.Stage1PreactTap, SegmentationModel.Stage2Tap, SegmentationModel.Stage2PreactTap,
        SegmentationModel.Stage3Tap, SegmentationModel.Stage3PreactTap, SegmentationModel.Stage4Tap, SegmentationModel.Stage4PreactTap,
    ];

    public static TheoryData<string> RegisteredNames
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var (name, _) in SegmentationModels.Names)
            {
                data.Add(name);
            }

            return data;
        }
    }

    [Fact]
    public void Registry_HasThePapersPairsTheirOutputStride16VariantsAndTheScenePair()
    {
        Assert.Equal(
            ["deeplabv3_resnet101", "deeplabv3_resnet101_os16", "deeplabv3_resnet18", "deeplabv3_resnet18_os16", "deeplabv3_resnet50", "deeplabv3_resnet50_os16",
             "pspnet_resnet101", "pspnet_resnet101_os16", "pspnet_resnet18", "pspnet_resnet18_os16", "scene_student", "scene_teacher"],
            SegmentationModels.Names.Select(n => n.Name));
    }

    [Theory]
    [MemberData(nameof(RegisteredNames))]
    public void EveryNetwork_PublishesTheSegmentationTaps_OnExistingModules_AndVariesItsInputSize(string name)
    {
        using var scope = DisposeScope.Enter();
        var options = SegmentationModels.DefaultOptions(name) with { NumClasses = 7 };
        using var model = SegmentationModels.Create(name, options);
        Assert.Equal([.. StageTaps, SegmentationModel.ContextTap, SegmentationModel.LogitsTap, SegmentationModel.AuxLogitsTap], model.Taps.Select(t => t.Name));
        foreach (var tap in model.Taps)
        {
            Assert.NotNull(model.GetSubmodule(tap.ModulePath));
        }

        Assert.All(model.BnBeforeRelu, path => Assert.IsType<BatchNorm2d>(model.GetSubmodule(path)));
        Assert.Equal(4, model.BnBeforeRelu.Count);
        Assert.True(model.InputSizeVaries);
        Assert.True(model.HasAuxiliary);
        Assert.Equal(7, model.NumClasses);
        Assert.Equal(name.EndsWith("_os16", StringComparison.Ordinal) ? 16 : 8, model.OutputStride);
        Assert.IsType<Conv2d>(model.HeadModule("classifier"));
    }

    [Fact]
    public void SceneTeacher_DryRun_GivesEveryTapItsShape_WithLogitsAt8x8()
    {
        using var scope = DisposeScope.Enter();
        using var model = SegmentationModels.Create("scene_teacher");
        var shapes = model.DryRun(SegmentationModels.DefaultOptions("scene_teacher")).ToDictionary(t => t.Tap, t => t.Shape);
        Assert.Equal([1, 16, 32, 32], shapes["stem"]);
        Assert.Equal([1, 16, 32, 32], shapes["stage1"]);
        Assert.Equal([1, 32, 16, 16], shapes["stage2"]);
        Assert.Equal([1, 64, 8, 8], shapes["stage3"]);
        Assert.Equal([1, 128, 8, 8], shapes["stage4"]);
        Assert.Equal([1, 128, 8, 8], shapes["stage4.preact"]);
        Assert.Equal([1, 64, 8, 8], shapes["context"]);
        Assert.Equal([1, 11, 8, 8], shapes["logits"]);
        Assert.Equal([1, 11, 8, 8], shapes["aux_logits"]);
    }

    [Fact]
    public void SceneStudent_DryRun_GivesItsNarrowerTaps()
    {
        using var scope = DisposeScope.Enter();
        using var model = SegmentationModels.Create("scene_student");
        var shapes = model.DryRun(1, 64, 64).ToDictionary(t => t.Tap, t => t.Shape);
        Assert.Equal([1, 64, 8, 8], shapes["stage4"]);
        Assert.Equal([1, 32, 8, 8], shapes["context"]);
        Assert.Equal([1, 11, 8, 8], shapes["logits"]);
        Assert.Equal([1, 11, 8, 8], shapes["aux_logits"]);
    }

    [Fact]
    public void PspNetResNet18_DryRun_GivesTheOfficialWidths_AtOutputStride8()
    {
        using var scope = DisposeScope.Enter();
        using var model = SegmentationModels.Create("pspnet_resnet18");
        var shapes = model.DryRun(3, 65, 65).ToDictionary(t => t.Tap, t => t.Shape);
        Assert.Equal([1, 64, 33, 33], shapes["stem"]);
        Assert.Equal([1, 256, 9, 9], shapes["stage3"]);
        Assert.Equal([1, 512, 9, 9], shapes["stage4"]);
        Assert.Equal([1, 128, 9, 9], shapes["context"]);
        Assert.Equal([1, 19, 9, 9], shapes["logits"]);
        Assert.Equal([1, 19, 9, 9], shapes["aux_logits"]);
    }

    [Theory]
    [InlineData("scene_student", 64, 64)]
    [InlineData("scene_student", 65, 65)]
    [InlineData("scene_student", 48, 72)]
    [InlineData("scene_student", 33, 47)]
    [InlineData("deeplab_tiny", 65, 65)]
    [InlineData("deeplab_tiny", 50, 70)]
    [InlineData("deeplab_tiny", 97, 31)]
    [InlineData("deeplab_tiny_os16", 65, 65)]
    [InlineData("deeplab_tiny_os16", 50, 70)]
    [InlineData("pspnet_tiny", 65, 65)]
    [InlineData("pspnet_tiny", 41, 90)]
    public void Logits_AreTheInputSizeOverTheOutputStride_RoundedUp_AndNotResized(string name, int height, int width)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelsGoldenTests.Build(name);
        model.Eval();
        using var noGrad = Autograd.NoGrad();
        var channels = name.StartsWith("scene_", StringComparison.Ordinal) ? 1 : 3;
        var logits = model.Forward(Tensor.Zeros([2, channels, height, width]));
        var stride = model.OutputStride;
        Assert.Equal([2, model.NumClasses, (height + stride - 1) / stride, (width + stride - 1) / stride], logits.Shape);
    }

    [Fact]
    public void Taps_AfterADryRunOn64x64_AcceptABatchOfAnotherSize_InTraining()
    {
        using var scope = DisposeScope.Enter();
        using var model = SegmentationModels.Create("scene_student");
        model.DryRun(1, 64, 64);
        using var taps = model.TapFeatures(SegmentationModel.ContextTap, SegmentationModel.AuxLogitsTap, SegmentationModel.LogitsTap);
        model.Train();
        var logits = model.Forward(Tensor.Zeros([2, 1, 48, 80]));
        Assert.Equal([2, 32, 6, 10], taps[SegmentationModel.ContextTap].Shape);
        Assert.Equal([2, 11, 6, 10], taps[SegmentationModel.AuxLogitsTap].Shape);
        Assert.Equal(logits.ToArray<float>(), taps[SegmentationModel.LogitsTap].ToArray<float>());
    }

    [Fact]
    public void TorchVisionBackbone_FollowsReplaceStrideWithDilation_FirstBlockKeepsThePreviousDilation()
    {
        using var scope = DisposeScope.Enter();
        using var os8 = DilatedResNet.TorchVision(50, 8);
        Assert.Equal([[1L, 1, 1], [1L, 1, 1, 1], [1L, 2, 2, 2, 2, 2], [2L, 4, 4]], os8.Dilations.Select(d => d.ToArray()));
        var conv = Assert.IsType<Conv2d>(os8.GetSubmodule("layer4.1.conv2"));
        Assert.Equal(((4L, 4L), (4L, 4L), (1L, 1L)), (conv.Dilation, conv.Padding, conv.Stride));
        var first = Assert.IsType<Conv2d>(os8.GetSubmodule("layer3.0.conv2"));
        Assert.Equal(((1L, 1L), (1L, 1L)), (first.Dilation, first.Stride));
        Assert.IsType<Conv2d>(os8.GetSubmodule("layer3.0.downsample.0"));
        using var os16 = DilatedResNet.TorchVision(18, 16);
        Assert.Equal([[1L, 1], [1L, 1], [1L, 1], [1L, 2]], os16.Dilations.Select(d => d.ToArray()));
        var basic = Assert.IsType<Conv2d>(os16.GetSubmodule("layer4.1.conv1"));
        var second = Assert.IsType<Conv2d>(os16.GetSubmodule("layer4.1.conv2"));
        Assert.Equal(((2L, 2L), (2L, 2L), (2L, 2L)), (basic.Dilation, second.Dilation, second.Padding));
    }

    [Fact]
    public void SceneBackbone_DilatesEveryBlockOfItsLastStage_SoTheOneBlockStudentIsDilatedToo()
    {
        using var scope = DisposeScope.Enter();
        using var student = SegmentationModels.Create("scene_student");
        Assert.Equal([[1L], [1L], [1L], [2L]], student.Backbone.Dilations.Select(d => d.ToArray()));
        using var teacher = SegmentationModels.Create("scene_teacher");
        Assert.Equal([2L, 2], teacher.Backbone.Dilations[3]);
    }

    [Fact]
    public void OutputStride_ThatTheStemCannotGive_IsRejected_NamingTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => DilatedResNet.TorchVision(18, 4));
        Assert.Contains("output stride 4", e.Message, StringComparison.Ordinal);
        Assert.Contains("32, 16 or 8", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DilatedResNet.TorchVision(152));
    }

    [Fact]
    public void Registry_UnknownName_ListsTheNetworks()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => SegmentationModels.Create("deeplabv3_resnet152"));
        Assert.Contains("'deeplabv3_resnet152'", e.Message, StringComparison.Ordinal);
        Assert.Contains("deeplabv3_resnet101", e.Message, StringComparison.Ordinal);
        Assert.Contains("scene_student", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAuxiliaryHead_NoAuxTapIsPublished()
    {
        using var scope = DisposeScope.Enter();
        using var model = new PspNet(DilatedResNet.TorchVision(18), 3, 8, auxiliary: false);
        Assert.False(model.HasAuxiliary);
        Assert.DoesNotContain(SegmentationModel.AuxLogitsTap, model.Taps.Select(t => t.Name));
        Assert.DoesNotContain(model.StateDict().Keys, k => k.StartsWith("dsn.", StringComparison.Ordinal));
    }
}
