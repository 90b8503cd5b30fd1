using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN;
using Distill.NN.Data;
using Distill.Parity;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// Inputs of height != width through every dry run (models, MethodContext, a training run), tap shapes checked
/// when the maps arrive for inputs of the dry run's size and of another, and a MethodContext of tapped models
/// that are not classifiers.
/// </summary>
public sealed class NonSquareInputTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-nonsquare-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [MemberData(nameof(ModelTapTests.AllModels), MemberType = typeof(ModelTapTests))]
    public void EveryModel_On24x40Inputs_DryRunsAndForwardsWithEveryTap_AtTheDryRunsShapes(string name)
    {
        using var scope = DisposeScope.Enter();
        var options = new ModelOptions(5, 3, 24, 40);
        using var model = ModelRegistry.Create(name, options);
        var shapes = model.DryRun(options);
        using var taps = model.TapFeatures(model.Taps.Select(t => t.Name));
        var logits = model.Forward(Tensor.Randn([2, 3, 24, 40]));
        Assert.Equal([2L, 5], logits.Shape);
        foreach (var (tap, shape) in shapes)
        {
            Assert.Equal([2L, .. shape[1..]], taps[tap].Shape);
        }

        // A map [B, C, H, W] keeps the input's aspect: the dry run really ran on 24 x 40, not on a square.
        var stage1 = shapes.Single(s => s.Tap == "stage1").Shape;
        var stem = shapes.Single(s => s.Tap == "stem").Shape;
        Assert.All(new[] { stem, stage1 }.Where(s => s.Length == 4), s => Assert.True(s[3] > s[2], $"{name}: {Tensor.FormatShape(s)}"));
    }

    [Fact]
    public void VisionTransformer_OnANonSquareInput_HasOnePositionEmbeddingPerPatchOfTheHxWGrid()
    {
        using var scope = DisposeScope.Enter();
        using var vit = ModelRegistry.Create("vit_tiny", new ModelOptions(5, 3, 24, 40));
        var stem = vit.DryRun(3, 24, 40).Single(s => s.Tap == "stem").Shape;
        Assert.Equal([1L, 192, 6, 10], stem);
        Assert.Equal([1L, 61, 192], vit.DryRunShape("stage1")!);
        Assert.Equal([1L, 61, 192], vit.NamedParameters().Single(p => p.Name == "pos_embed").Parameter.Shape);
        Assert.Equal((24, 40), (((VisionTransformer)vit).ImageHeight, ((VisionTransformer)vit).ImageWidth));
    }

    [Fact]
    public void VisionTransformer_RefusesAnInputWithTheSamePatchCountOnAnotherGrid()
    {
        // 16 x 64 gives 4 x 16 = 64 patches, as many as 32 x 32's 8 x 8: the count alone would let the wrong embeddings through.
        using var scope = DisposeScope.Enter();
        using var vit = new VisionTransformer(2, 3, 32, embedDim: 32, depth: 4, heads: 2);
        var e = Assert.Throws<ArgumentException>(() => vit.Forward(Tensor.Zeros([1, 3, 16, 64])));
        Assert.Contains("built for 32x32 inputs (a 8x8 grid of patches", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 3, 16, 64]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelRegistry_AViTForASizeThatIsNotAMultipleOfItsPatch_IsOneErrorNamingTheModelAndTheSize()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelRegistry.Create("vit_tiny", new ModelOptions(5, 3, 30, 40)));
        Assert.StartsWith("vit_tiny on 3x30x40 inputs: ViT needs the input height and width (30x40) to be multiples of the patch size (4)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelOptions_ImageSizeSetsHeightAndWidth_AndSizesMustBePositive()
    {
        Assert.Equal(new ModelOptions(10, 1, 28, 28), new ModelOptions(10, 1, 28));
        Assert.Equal((32, 32), (new ModelOptions().Height, new ModelOptions().Width));
        Assert.Equal("1x24x40", new ModelOptions(10, 1, 24, 40).InputSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelOptions(10, 1, 0, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelOptions(10, 1, 24, -1));
    }

    [Fact]
    public void MethodContext_FromANonSquareDryRun_GivesEveryTapItsHxW()
    {
        using var scope = DisposeScope.Enter();
        var options = new ModelOptions(2, 1, 24, 40);
        using var student = ModelRegistry.Create("resnet8", options);
        using var teacher = ModelRegistry.Create("resnet8x4", options);
        var context = MethodContext.FromModels(student, teacher, options);
        Assert.Equal([1L, 16, 24, 40], context.StudentShape("stage1"));
        Assert.Equal([1L, 64, 6, 10], context.StudentShape("stage3.preact"));
        Assert.Equal([1L, 128, 12, 20], context.TeacherShape("stage2"));
        Assert.Equal([1L, 32, 12, 20], context.StudentShape("layer2.0.conv1"));
        Assert.Equal([1L, 2], context.StudentShape("logits"));
    }

    [Theory]
    [InlineData("fitnet", new[] { "tap=stage2" })]
    [InlineData("at", new[] { "stages=[stage1,stage2,stage3]" })]
    public void FeatureMethod_On24x40Images_TrainsOneEpochThroughTheTrainer(string method, string[] methodOptions)
    {
        var data = TrainerTests.StripesDataset(32, 24, 40);
        var options = new ModelOptions(2, 1, 24, 40);
        TorchRuntime.ManualSeed(4);
        using var teacher = ModelRegistry.Create("resnet8x4", options);
        using var student = ModelRegistry.Create("resnet8", options);
        using var distiller = MethodBuilder.Create(MethodCheck.Options(method, methodOptions), MethodContext.FromModels(student, teacher, options, data.Labels))!;
        using var trainer = new Trainer(student, teacher, distiller, new TrainerOptions { Epochs = 1, LearningRate = 0.01 });
        var result = Assert.Single(trainer.Fit(new DataLoader(data, 16, shuffle: true, seed: 2), new DataLoader(data, 32)));
        Assert.True(result.LossTerms.Count > 1, string.Join(", ", result.LossTerms.Keys));
        Assert.All(result.LossTerms, t => Assert.True(double.IsFinite(t.Value) && t.Value > 0, $"{method}: {t.Key} = {t.Value}"));
    }

    [Fact]
    public void TrainingRun_OnNonSquareIdxImages_DryRunsTheModelsOnTheirHeightAndWidth()
    {
        // Before, the loaders reported the height alone, so the models were dry-run on 12 x 12 and the first map of 12 x 20 images failed the shape check.
        foreach (var (prefix, count) in new[] { ("train", 32), ("t10k", 16) })
        {
            TinyIdx.WritePair(Path.Combine(_root, $"{prefix}-images-idx3-ubyte"), Path.Combine(_root, $"{prefix}-labels-idx1-ubyte"),
                [.. Enumerable.Range(0, count * 12 * 20).Select(i => (byte)(i * 7))], [.. Enumerable.Range(0, count).Select(i => (byte)(i % 10))], 12, 20, gzip: false);
        }

        var loaders = DatasetFactory.Create(new DataConfig { Dataset = "idx", Root = _root }, 0);
        Assert.Equal(new ModelOptions(10, 1, 12, 20), loaders.ModelOptions);
        var config = Recipes.Parse(TinyIdx.Recipe(_root, $"""
            method:
              name: tfd
            train:
              epochs: 1
            output: {Path.Combine(_root, "run")}
            """));
        var summary = TrainingRun.Execute(config);
        Assert.Single(summary.Epochs);
    }

    [Fact]
    public void ModelTaps_AfterANonSquareDryRun_PassForAnyBatchOfThatSize_AndNameBothShapesForTheTransposedSize()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8");
        model.DryRun(3, 24, 40);
        using var taps = model.TapFeatures("stage2");
        model.Forward(Tensor.Randn([3, 3, 24, 40]));
        Assert.Equal([3L, 32, 12, 20], taps["stage2"].Shape);
        model.Forward(Tensor.Randn([1, 3, 40, 24]));
        var e = Assert.Throws<InvalidOperationException>(() => taps["stage2"]);
        Assert.Equal(
            "tap 'stage2' (module layer2) arrived as [1, 32, 20, 12] from an input [1, 3, 40, 24] but the method was built for [B, 32, 12, 20] (ResNet's dry run on 3x24x40): "
            + "the model's input must have the height and width it was dry-run on (ResNet does not take inputs of varying size)", e.Message);
    }

    [Fact]
    public void ModelTaps_OfAModelWhoseInputSizeVaries_LeaveTheMapsHxWFree_ButCheckEveryOtherDimension()
    {
        using var scope = DisposeScope.Enter();
        using var model = new TinySegmenter(3, 4, inputSizeVaries: true);
        model.DryRun(3, 24, 40);
        using var taps = model.TapFeatures("stage1", "stage2.preact", "decode", "flat");
        model.Forward(Tensor.Randn([2, 3, 24, 40]));
        Assert.Equal([2L, 8, 12, 20], taps["stage1"].Shape);
        Assert.Equal([2L, 8 * 12 * 20], taps["flat"].Shape);

        model.Forward(Tensor.Randn([2, 3, 32, 48]));
        Assert.Equal([2L, 8, 16, 24], taps["stage1"].Shape);
        Assert.Equal([2L, 16, 8, 12], taps["stage2.preact"].Shape);
        Assert.Equal([2L, 4, 8, 12], taps["decode"].Shape);

        // A vector whose length follows the input (a method would have sized a projector for 1920) is still refused.
        var e = Assert.Throws<InvalidOperationException>(() => taps["flat"]);
        Assert.Equal(
            "tap 'flat' arrived as [2, 3072] from an input [2, 3, 32, 48] but the method was built for [B, 1920] (TinySegmenter's dry run on 3x24x40): "
            + "the input's height and width may vary, the other dimensions may not", e.Message);
    }

    [Fact]
    public void MethodContext_FromModels_TakesTappedModelsThatAreNotClassifiers_WithoutDatasetLabels()
    {
        using var scope = DisposeScope.Enter();
        var options = new ModelOptions(4, 3, 24, 40);
        using var student = new TinySegmenter(3, 4, inputSizeVaries: true);
        using var teacher = new TinySegmenter(3, 4, inputSizeVaries: true, width: 12);
        var context = MethodContext.FromModels(student, teacher, options);
        Assert.Null(context.DatasetLabels);
        Assert.Equal(["stage1", "stage2"], context.StudentStages);
        Assert.Equal([1L, 8, 12, 20], context.StudentShape("stage1"));
        Assert.Equal([1L, 24, 6, 10], context.TeacherShape("stage2.preact"));
        Assert.Equal([1L, 4, 6, 10], context.TeacherShape("decode"));
        Assert.Equal([1L, 12, 12, 20], context.TeacherShape("block1.0"));
        Assert.Equal(24, context.TeacherBatchNorm(1).Weight.Length);
        Assert.Equal(new HeadInfo("decode", "decode"), Assert.Single(student.Heads));
    }

    /// <summary>
    /// A dense model in miniature: two conv-BN-ReLU stages (the second of stride 2) and a 1x1 "decode" head giving
    /// [B, K, H/4, W/4]; "flat" is the second stage flattened, a tap whose length follows the input size.
    /// </summary>
    private sealed class TinySegmenter : TappedModel<Tensor>
    {
        private readonly Sequential _block1;
        private readonly Sequential _block2;
        private readonly Conv2d _decode;
        private readonly Flatten _flat;
        private readonly bool _inputSizeVaries;

        public TinySegmenter(int inChannels, int classes, bool inputSizeVaries, int width = 8)
        {
            _inputSizeVaries = inputSizeVaries;
            _block1 = RegisterModule("block1", new Sequential(new Conv2d(inChannels, width, 3, stride: 2, padding: 1), new BatchNorm2d(width), new ReLU()));
            _block2 = RegisterModule("block2", new Sequential(new Conv2d(width, 2 * width, 3, stride: 2, padding: 1), new BatchNorm2d(2 * width), new ReLU()));
            _decode = RegisterModule("decode", new Conv2d(2 * width, classes, 1));
            _flat = RegisterModule("flat", new Flatten());
            AddStageTaps("block1.0", [("block1", "block1.1"), ("block2", "block2.1")]);
            AddTap("decode", "decode");
            AddBnBeforeRelu("block1.1");
            AddBnBeforeRelu("block2.1");
            AddHead("decode", "decode");
        }

        public override bool InputSizeVaries => _inputSizeVaries;

        protected override Tensor ForwardCore(Tensor input)
        {
            var x = _block1.Forward(input);
            var y = _block2.Forward(x);
            _flat.Forward(x);
            return _decode.Forward(y);
        }
    }
}
