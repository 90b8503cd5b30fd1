using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Parity;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>Taps by raw module path (forward hooks on any submodule) and tap shapes checked when the maps arrive.</summary>
public sealed class ModulePathTapTests
{
    [Theory]
    [InlineData("stage2", "layer2")]
    [InlineData("stage2", "layer2.0.relu")]
    [InlineData("stage2.preact", "layer2.0.preact")]
    [InlineData("stem", "relu")]
    [InlineData("pooled", "flatten")]
    public void TapByModulePath_GivesTheSameTensorAsThePublishedTapOnThatModule(string published, string path)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        using var taps = model.TapFeatures(published, path);
        model.Forward(Tensor.Randn([2, 3, 32, 32]));
        Assert.Equal(taps[published].Shape, taps[path].Shape);
        Assert.True(taps[published].Eq(taps[path]).All().Item<bool>());
    }

    [Fact]
    public void TapByModulePath_OfAModuleNoTapPublishes_RecordsItsOutputWithGradients()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        using var taps = model.TapFeatures("layer2.0.conv1");
        model.Forward(Tensor.Randn([2, 3, 32, 32]));
        Assert.Equal([2L, 32, 16, 16], taps["layer2.0.conv1"].Shape);
        taps["layer2.0.conv1"].Pow(2L).Mean().Backward();
        using var grad = ((Distill.NN.Conv2d)model.GetSubmodule("conv1")).Weight.Grad;
        Assert.NotNull(grad);
    }

    [Theory]
    [MemberData(nameof(ModelTapTests.AllModels), MemberType = typeof(ModelTapTests))]
    public void EveryModel_PublishedTapNames_ShadowNoModulePathOfAnotherModule(string name)
    {
        // A published name wins over a module path of the same spelling; in the zoo the two never disagree.
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create(name);
        var paths = model.ModulePaths.ToHashSet(StringComparer.Ordinal);
        Assert.All(model.Taps.Where(t => paths.Contains(t.Name)), t => Assert.Equal(t.Name, t.ModulePath));
    }

    [Fact]
    public void UnknownTapName_OneErrorListsThePublishedTapsAndTheClosestModulePaths()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        var e = Assert.Throws<KeyNotFoundException>(() => model.TapFeatures("layer2.0.rleu"));
        Assert.Contains("'layer2.0.rleu'", e.Message, StringComparison.Ordinal);
        Assert.Contains("stage3.preact", e.Message, StringComparison.Ordinal);
        Assert.Contains("closest module paths: layer2.0.relu", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MethodContext_FromModels_KnowsModulePathShapes_AndNamesCloseOnesForUnknownNames()
    {
        using var scope = DisposeScope.Enter();
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using var teacher = ModelRegistry.Create("resnet8x4", new ModelOptions(2, 1, 16));
        var context = MethodContext.FromModels(student, teacher, new ModelOptions(2, 1, 16));
        Assert.Equal(context.StudentShape("stage2"), context.StudentShape("layer2"));
        Assert.Equal([1L, 128, 8, 8], context.TeacherShape("layer2.0.relu"));
        var e = Assert.Throws<KeyNotFoundException>(() => context.StudentShape("layer9"));
        Assert.Contains("the student has no tap 'layer9'", e.Message, StringComparison.Ordinal);
        Assert.Contains("stage1", e.Message, StringComparison.Ordinal);
        Assert.Contains("closest module paths: layer1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadsAreNamedParts_TheClassifiersHeadIsItsLogitsModule()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        var head = Assert.Single(model.Heads);
        Assert.Equal(new HeadInfo("classifier", "fc"), head);
        Assert.Same(model.GetSubmodule("fc"), model.HeadModule("classifier"));
        Assert.Same(model.GetSubmodule("fc"), model.Head);
        Assert.Throws<KeyNotFoundException>(() => model.HeadModule("decode"));
    }

    [Theory]
    [InlineData("fitnet", new[] { "tap=layer2.0.relu" })]
    [InlineData("fitnet", new[] { "taps=[stage1,layer2.0.relu]" })]
    [InlineData("cwd", new[] { "student_taps=[stage1,layer2.0.relu]", "teacher_taps=[stage1,layer2.0.relu]" })]
    [InlineData("mgd", new[] { "student_taps=[layer2.0.relu,stage3]", "teacher_taps=[layer2.0.relu,stage3]" })]
    [InlineData("at", new[] { "stages=[layer1,layer2.0.relu,layer3.0.preact]" })]
    public void FeatureMethod_WithRawModulePathTaps_TrainsOneEpochThroughTheTrainer(string method, string[] options)
    {
        var data = TrainerTests.StripesDataset(64);
        var modelOptions = new ModelOptions(2, 1, 16);
        TorchRuntime.ManualSeed(4);
        using var teacher = ModelRegistry.Create("resnet8x4", modelOptions);
        using var student = ModelRegistry.Create("resnet8", modelOptions);
        using var distiller = MethodBuilder.Create(MethodCheck.Options(method, options), MethodContext.FromModels(student, teacher, modelOptions, data.Labels))!;
        using var trainer = new Trainer(student, teacher, distiller, new TrainerOptions { Epochs = 1, LearningRate = 0.01 });
        var results = trainer.Fit(new DataLoader(data, 32, shuffle: true, seed: 2), new DataLoader(data, 64));
        var result = Assert.Single(results);
        Assert.True(result.LossTerms.Count > 1, string.Join(", ", result.LossTerms.Keys));
        Assert.All(result.LossTerms, t => Assert.True(double.IsFinite(t.Value) && t.Value > 0, $"{method}: {t.Key} = {t.Value}"));
    }

    [Fact]
    public void FeaturesOfAnotherSizeThanTheDryRun_FailWhenTheyArrive_NamingTheTapAndBothShapes()
    {
        // The method is built from a 12x12 dry run; the images are 16x16, so stage2 arrives 8x8 instead of 6x6.
        var data = TrainerTests.StripesDataset(32);
        var modelOptions = new ModelOptions(2, 1, 12);
        using var teacher = ModelRegistry.Create("resnet8x4", modelOptions);
        using var student = ModelRegistry.Create("resnet8", modelOptions);
        using var distiller = MethodFactory.Create(new FitNet.Options { Tap = "stage2" }, MethodContext.FromModels(student, teacher, modelOptions, data.Labels));
        using var trainer = new Trainer(student, teacher, distiller, new TrainerOptions { Epochs = 1 });
        var e = Assert.Throws<InvalidOperationException>(() => trainer.Fit(new DataLoader(data, 16), new DataLoader(data, 16)));
        Assert.Contains("tap 'stage2' (module layer2)", e.Message, StringComparison.Ordinal);
        Assert.Contains("[16, 32, 8, 8]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[B, 32, 6, 6]", e.Message, StringComparison.Ordinal);
        Assert.Contains("dry run on 1x12x12", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelTaps_ReadAfterADryRunOfTheSameSize_PassTheShapeCheckForAnyBatch()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        model.DryRun(3, 24, 24);
        using var taps = model.TapFeatures("stage3", "layer3.0.bn2");
        model.Forward(Tensor.Randn([3, 3, 24, 24]));
        Assert.Equal([3L, 64, 6, 6], taps["stage3"].Shape);
        Assert.Equal([1L, 64, 6, 6], model.DryRunShape("layer3.0.bn2")!);
        model.Forward(Tensor.Randn([1, 3, 32, 32]));
        var e = Assert.Throws<InvalidOperationException>(() => taps["layer3.0.bn2"]);
        Assert.Contains("tap 'layer3.0.bn2' arrived as [1, 64, 8, 8]", e.Message, StringComparison.Ordinal);
    }
}
