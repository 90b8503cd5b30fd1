using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN;
using Distill.NN.Data;
using Distill.Tests.Dense;
using Distill.Tasks;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>
/// Structured KD beyond the goldens: hand-worked values of its two structured terms, the discriminator's small-map
/// layout, weights of 0 switching terms (and the discriminator) off, the guarded square root of the gradient penalty,
/// and a few training steps of a toy segmenter through the trainer (own step, logged D means, weight decay).
/// </summary>
public sealed class SkdMethodTests
{
    [Fact]
    public void PixelLoss_OnTwoPixels_IsTheHandWorkedCrossEntropySumOverHW()
    {
        // Teacher logits (2, 0), (0, 1); student (1, 0), (0, 0): CE 0.432517 and 0.693147, summed and divided by 1 x 2.
        using var scope = DisposeScope.Enter();
        var teacher = Tensor.From(new double[] { 2, 0, 0, 1 }, 1, 2, 1, 2);
        var student = Tensor.From(new double[] { 1, 0, 0, 0 }, 1, 2, 1, 2);
        Assert.Equal(0.562806, StructuredKnowledgeDistillation.PixelLoss(student, teacher).Item<double>(), 6);
    }

    [Fact]
    public void PairLoss_OnTwoNodes_IsTheHandWorkedSquaredSimilarityDifference()
    {
        // 2x2 maps pooled by 1x1 patches (scale 0.5): four nodes, the hand-worked pair twice. Teacher nodes (1,0), (1,1), student
        // (0,1), (0,2): A_T = [[1, .707107], [.707107, 1]], A_S = ones: 2 x 0.292893^2 / 2^2 = 0.042893 (doubling the nodes
        // multiplies the sum and M^2 by 4).
        using var scope = DisposeScope.Enter();
        var teacher = Tensor.From(new double[] { 1, 1, 1, 1, 0, 1, 0, 1 }, 1, 2, 2, 2);
        var student = Tensor.From(new double[] { 0, 0, 0, 0, 1, 2, 1, 2 }, 1, 2, 2, 2);
        Assert.Equal(0.042893, StructuredKnowledgeDistillation.PairLoss(student, teacher, 0.5).Item<double>(), 6);
    }

    [Theory]
    [InlineData(8, 1, "8 -> 4 -> 1x1")]
    [InlineData(15, 1, "15 -> 7 -> 4x4")]
    [InlineData(16, 2, "16 -> 8 -> 4 -> 1x1")]
    [InlineData(64, 4, "64 -> 32 -> 16 -> 8 -> 4 -> 1x1")]
    public void Discriminator_OnSmallMaps_HasMaxOneFloorLog2MinusTwoConvs_AndOneAttentionBlockAfterTheLast(int size, int layers, string path)
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(1);
        using var d = new ScoreMapDiscriminator(5, size, size, convDim: 8);
        Assert.False(d.Official);
        Assert.Equal(layers, d.Layers);
        Assert.Equal([$"attn1.gamma"], d.NamedParameters().Select(p => p.Name).Where(n => n.StartsWith("attn", StringComparison.Ordinal) && n.EndsWith("gamma", StringComparison.Ordinal)));
        Assert.Equal(8L << (layers - 1), d.NamedParameters().Single(p => p.Name == "attn1.value_conv.weight").Parameter.Size(0));
        var side = size >> layers;
        side -= 3;
        Assert.Equal([2L, 1, side, side], d.Forward(Tensor.Randn([2, 5, size, size])).Shape);
        Assert.EndsWith($"{side}x{side}", path, StringComparison.Ordinal);
        Assert.All(d.NamedParameters(), p => Assert.DoesNotContain("weight_u", p.Name, StringComparison.Ordinal));
        Assert.Contains(d.NamedBuffers(), b => b.Name == "l1.0.weight_u");
        Assert.Equal(0, d.NamedParameters().Single(p => p.Name == "attn1.gamma").Parameter.Item<float>());
    }

    [Fact]
    public void Discriminator_OnMapsBelow8x8_SaysWhatItNeeds()
    {
        var e = Assert.Throws<ArgumentException>(() => new ScoreMapDiscriminator(3, 7, 9));
        Assert.Equal("the holistic discriminator needs score maps of at least 8x8 (its stride-2 convs and final 4x4 conv); these are 7x9", e.Message);
    }

    [Fact]
    public void WeightZero_SwitchesATermOff_AndHolisticZeroBuildsNoDiscriminatorAndNoOwnStep()
    {
        using var scope = DisposeScope.Enter();
        var context = SegmentationContext();
        using var none = new StructuredKnowledgeDistillation(new StructuredKnowledgeDistillation.Options { PairWeight = 0, HolisticWeight = 0 }, context);
        Assert.Null(none.Discriminator);
        Assert.Empty(none.OwnParameters);
        Assert.Empty(none.StudentTaps);
        Assert.Empty(none.RandomDraws);
        var inputs = new DistillationInputs(Tensor.Randn([2, 3, 8, 8]), Tensor.Randn([2, 3, 8, 8]), new MaskBatch(Tensor.Zeros([2, 64, 64], DType.Int64)), Tensor.Zeros([2], DType.Int64), null, null, 1);
        Assert.Equal(["pixel"], none.ComputeLoss(inputs).Terms.Select(t => t.Name));
        Assert.Empty(none.ComputeOwnLoss(inputs).Terms);

        using var student = new ToySegmenter(3, 4);
        using var teacher = new ToySegmenter(3, 8);
        using var trainer = new Trainer(student, teacher, none, new TrainerOptions { Epochs = 1 }, SegmentationTask.Default);
        Assert.Null(trainer.MethodOptimizer);

        using var full = new StructuredKnowledgeDistillation(new StructuredKnowledgeDistillation.Options(), context);
        Assert.Equal(["context"], full.StudentTaps);
        Assert.Equal(["alpha [B, 1, 1, 1] (the gradient penalty's interpolation weight, U(0, 1) per sample)"], full.RandomDraws);
        Assert.Equal(new MethodOptimizerSettings { Optimizer = "sgd", LearningRate = 4e-4, Momentum = 0.9, Betas = (0.9, 0.99), WeightDecay = null }, full.OwnOptimizer);
        using var fixedDecay = new StructuredKnowledgeDistillation(new StructuredKnowledgeDistillation.Options { DWeightDecayFromRecipe = false, DOptimizer = "adam" }, context);
        Assert.Equal(5e-4, fixedDecay.OwnOptimizer.WeightDecay);
        Assert.Equal("adam", fixedDecay.OwnOptimizer.Optimizer);
    }

    [Fact]
    public void GradientPenalty_WithSqrtEps_KeepsTheGradientFinite_WhereTheOfficialFormGivesNaN()
    {
        // A critic whose input gradient vanishes (its weight is 0): the official sqrt(Σ g²) has an infinite derivative at 0.
        using var scope = DisposeScope.Enter();
        var real = Tensor.Randn([2, 3, 4, 4]);
        var fake = Tensor.Randn([2, 3, 4, 4]);
        var alpha = Tensor.Rand([2, 1, 1, 1]);
        foreach (var eps in new[] { 0.0, 1e-12 })
        {
            var weight = Tensor.Zeros([1]).RequireGrad();
            var penalty = AdversarialLoss.GradientPenalty(x => (x * weight).Sum([1, 2, 3]), real, fake, alpha, eps);
            Assert.Equal(1.0, penalty.Item<float>(), 5); // (sqrt(1e-12) - 1)^2 in float32
            penalty.Backward();
            Assert.Equal(eps > 0, float.IsFinite(weight.Grad!.Item<float>()));
        }
    }

    [Fact]
    public void Training_AToySegmenterWithAllThreeTerms_RunsOwnStepsWithoutNaN_LogsTheDiscriminatorMeans_MovesTheDiscriminatorOnThePolySchedule()
    {
        var data = new SquareMasks(24);
        TorchRuntime.ManualSeed(2);
        using var teacher = new ToySegmenter(3, 8);
        using var student = new ToySegmenter(3, 4);
        var context = MethodContext.FromModels(student, teacher, new ModelOptions(3, 3, 16));
        using var method = (StructuredKnowledgeDistillation)MethodFactory.Create("skd", new Dictionary<string, object> { ["d_conv_dim"] = 8 }, context);
        var before = method.Discriminator!.Parameters().Select(p => p.ToBytes()).ToArray();
        IReadOnlyList<EpochResult> results;
        using (var trainer = new Trainer(student, teacher, method, new TrainerOptions { Epochs = 2, LearningRate = 0.01, WeightDecay = 5e-4, Schedule = "poly" }, SegmentationTask.Default))
        {
            Assert.Equal(5e-4, trainer.MethodOptimizer!.Groups.Single().WeightDecay);
            Assert.Equal(4e-4, trainer.MethodOptimizer.Groups.Single().LearningRate, 12);
            results = trainer.Fit(new DataLoader(data, 8, shuffle: true, seed: 1), new DataLoader(data, 24));

            // The discriminator's rate follows the recipe's poly schedule, as the student's.
            Assert.True(trainer.MethodOptimizer.Groups.Single().LearningRate < 4e-4);
            Assert.Equal(trainer.Optimizer.Groups[0].LearningRate / 0.01, trainer.MethodOptimizer.Groups.Single().LearningRate / 4e-4, 9);
        }

        foreach (var result in results)
        {
            Assert.Equal([SegmentationTask.LossTerm, "pixel", "pair", "holistic", "d_adv", "d_gp", "d_real", "d_fake"], result.LossTerms.Keys);
            Assert.All(result.LossTerms.Values, v => Assert.True(double.IsFinite(v), string.Join(", ", result.LossTerms)));
            Assert.Equal(["d_adv", "d_fake", "d_gp", "d_real"], result.OwnLossTerms);
        }

        Assert.Contains(method.Discriminator.Parameters().Zip(before), p => !p.First.ToBytes().SequenceEqual(p.Second));
    }

    /// <summary>Tap shapes of a scene-sized segmenter pair: 3 classes on 8x8 logit maps, context maps of 4 and 8 channels.</summary>
    /// <summary>A toy segmenter publishing "context" and 8x8 "logits" on 16x16 images (for tests that train any method on its task).</summary>
    internal static ClassificationModel Segmenter(int classes, int width) => new ToySegmenter(classes, width);

    /// <summary>16×16 3-channel images with one square of class 1 or 2 on background 0, with their masks.</summary>
    internal static IImageDataset Squares(int count) => new SquareMasks(count);

    internal static MethodContext SegmentationContext() => new(
        new Dictionary<string, long[]> { ["logits"] = [1, 3, 8, 8], ["context"] = [1, 4, 8, 8] },
        new Dictionary<string, long[]> { ["logits"] = [1, 3, 8, 8], ["context"] = [1, 8, 8, 8] });

    /// <summary>A stride-2 conv-BN-ReLU stem (the "context" tap) and a 1×1 classifier ("logits"): logits at half the input size.</summary>
    private sealed class ToySegmenter : ClassificationModel
    {
        private readonly Sequential _stem;
        private readonly Conv2d _classifier;

        public ToySegmenter(int classes, int width)
        {
            _stem = RegisterModule("stem", new Sequential(new Conv2d(3, width, 3, stride: 2, padding: 1), new BatchNorm2d(width), new ReLU()));
            _classifier = RegisterModule("classifier", new Conv2d(width, classes, 1));
            AddTap("context", "stem");
            AddTap("logits", "classifier");
        }

        protected override Tensor ForwardCore(Tensor input) => _classifier.Forward(_stem.Forward(input));
    }
}
