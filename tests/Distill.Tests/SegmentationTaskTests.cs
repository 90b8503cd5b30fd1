using System.Globalization;
using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using Xunit.Sdk;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>
/// The segmentation task: its loss against PyTorch 1.13 (eng/golden/segmentation_task.py), its mIoU on a case worked by
/// hand, and a tiny training through the trainer.
/// </summary>
public sealed class SegmentationTaskTests
{
    private static readonly JsonFixture Golden = new("segmentation_task.json");

    // Hand-worked (4 classes, 10 pixels over two images of 1 x 5): truth / prediction per pixel, 255 = ignored.
    // Non-ignored confusion (row = truth): [3 1 0 0; 0 2 0 0; 1 0 1 0; 0 0 0 0]. Class 3 is predicted only on an ignored
    // pixel, so it is absent: IoU0 = 3/(4+4-3) = 0.6, IoU1 = 2/(2+3-2) = 2/3, IoU2 = 1/(2+1-1) = 0.5, IoU3 = NaN;
    // mIoU = (0.6 + 2/3 + 0.5) / 3 = 53/90 (0.441667 if class 3 counted as 0); pixel accuracy 6/8.
    private static readonly byte[] HandTruth = [0, 0, 0, 1, 1, 2, 2, 255, 255, 0];
    private static readonly byte[] HandPrediction = [0, 0, 1, 1, 1, 2, 0, 3, 2, 0];

    public static TheoryData<string> Cases => Golden.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public void PixelCrossEntropy_WithIgnoredPixelsAndUpsampledLogits_MatchesPyTorch_LossAndGradient(string name)
    {
        var golden = Golden.Root.GetProperty(name);
        using var scope = DisposeScope.Enter();
        var logits = GoldenTensor.Parse(golden.GetProperty("logits")).ToTensor().RequireGrad();
        var masks = GoldenTensor.Parse(golden.GetProperty("masks")).ToTensor();
        var task = new SegmentationTask(alignCorners: golden.GetProperty("align_corners").GetBoolean());
        var terms = task.Loss(logits, new MaskBatch(masks));
        Assert.Equal([SegmentationTask.LossTerm], terms.Terms.Select(t => t.Name));
        var actual = terms.Total().Item<double>();
        var expected = golden.GetProperty("loss").GetDouble();

        // Both sides compute in float64 (a resize, a log-softmax and a mean over at most a few hundred pixels): torch's float64 tolerance.
        if (!GoldenTolerance.Float64.Accepts(actual, expected, 0))
        {
            throw new XunitException($"{name} loss: {actual:R}, reference {expected:R} (tolerance {GoldenTolerance.Float64.Describe(0)})");
        }

        terms.Total().Backward();
        GoldenTensor.Parse(golden.GetProperty("grad_logits")).AssertMatches(logits.Grad!, $"{name} gradient");
    }

    [Fact]
    public void ConfusionMetrics_OnTheHandWorkedCase_LeaveOutAbsentClassesAndIgnoredPixels()
    {
        using var scope = DisposeScope.Enter();
        var counts = Tensor.Zeros([16], DType.Int64);
        var truth = Tensor.From(HandTruth.Select(b => (long)b).ToArray(), 2, 1, 5);
        var prediction = Tensor.From(HandPrediction.Select(b => (long)b).ToArray(), 2, 1, 5);
        Assert.Equal(0, SegmentationTask.AccumulateConfusion(counts, prediction, truth).Item<long>());
        Assert.Equal([3L, 1, 0, 0, 0, 2, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0], counts.ToArray<long>());
        var (metrics, iou) = SegmentationTask.Metrics(counts.ToArray<long>(), 4);
        Assert.Equal(53.0 / 90, metrics[SegmentationTask.MeanIoU], 12);
        Assert.Equal(0.75, metrics[SegmentationTask.PixelAccuracy], 12);
        Assert.Equal(3, metrics[SegmentationTask.ClassesUsed]);
        Assert.Equal(0.6, iou[0], 12);
        Assert.Equal(2.0 / 3, iou[1], 12);
        Assert.Equal(0.5, iou[2], 12);
        Assert.True(double.IsNaN(iou[3]));
    }

    [Fact]
    public void Evaluate_AccumulatesOneConfusionMatrixOverTheWholeSplit_NotAMeanOfPerBatchMIoU()
    {
        // Identity "model": the image's 4 channels are the one-hot prediction. Batches of 1 image each: per-batch mIoU
        // would be (IoU over image 0 + over image 1) / 2, which differs from the split's 53/90.
        var data = new FixedDataset(HandPrediction, HandTruth, classes: 4, height: 1, width: 5);
        using var model = new Passthrough();
        var evaluation = SegmentationTask.Default.Evaluate(model, new DataLoader(data, 1, workers: 1), breakdown: true);
        Assert.Equal(2, evaluation.Samples);
        Assert.Equal(SegmentationTask.MeanIoU, evaluation.PrimaryMetric);
        Assert.Equal(53.0 / 90, evaluation.Primary, 12);
        Assert.Equal(0.75, evaluation.Metrics[SegmentationTask.PixelAccuracy], 12);
        Assert.Equal(4, evaluation.Breakdown.Count);
        Assert.Equal(0.6, evaluation.Breakdown[0], 12);
        Assert.True(double.IsNaN(evaluation.Breakdown[3]));
        Assert.Empty(SegmentationTask.Default.Evaluate(model, new DataLoader(data, 2, workers: 1)).Breakdown);
    }

    [Fact]
    public void Evaluate_OnALabelAboveTheClassCount_SaysSoOnce()
    {
        var truth = (byte[])HandTruth.Clone();
        truth[1] = 7;
        var data = new FixedDataset(HandPrediction, truth, classes: 4, height: 1, width: 5);
        using var model = new Passthrough();
        var e = Assert.Throws<InvalidDataException>(() => SegmentationTask.Default.Evaluate(model, new DataLoader(data, 2, workers: 1)));
        Assert.Equal("1 pixel label(s) are neither one of the model's 4 classes nor 255 (ignore)", e.Message);
    }

    [Fact]
    public void Describe_PrintsMIoUAndPixelAccuracy()
    {
        var evaluation = new TaskEvaluation(10, new Dictionary<string, double>
        {
            [SegmentationTask.MeanIoU] = 0.612,
            [SegmentationTask.PixelAccuracy] = 0.931,
            [SegmentationTask.ClassesUsed] = 11,
        }, SegmentationTask.MeanIoU);
        Assert.Equal("mIoU 61.20%, pixel accuracy 93.10%", SegmentationTask.Default.Describe(evaluation));
    }

    [Fact]
    public void Loss_OnClassLabelsOrFlatLogits_NamesWhatItWants()
    {
        using var scope = DisposeScope.Enter();
        var labels = new ClassLabelBatch(Tensor.Zeros([2], DType.Int64));
        var e = Assert.Throws<ArgumentException>(() => SegmentationTask.Default.Loss(Tensor.Zeros([2, 3, 4, 4]), labels));
        Assert.StartsWith("the segmentation task trains on masks; this batch carries class labels", e.Message, StringComparison.Ordinal);
        var masks = new MaskBatch(Tensor.Zeros([2, 4, 4], DType.Int64));
        e = Assert.Throws<ArgumentException>(() => SegmentationTask.Default.Loss(Tensor.Zeros([2, 3]), masks));
        Assert.Equal("segmentation logits [2, 3] must be [B, K, h, w] for masks [2, 4, 4] [B, H, W]", e.Message);
    }

    [Fact]
    public void AuxiliaryLoss_AddsPoint4TimesTheAuxHeadsPixelCrossEntropy()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(1);
        var masks = Tensor.RandInt(0, 3, [2, 8, 8]);
        var main = Tensor.Randn([2, 3, 8, 8]);
        var aux = Tensor.Randn([2, 3, 4, 4]);
        var task = SegmentationTask.Default;
        var terms = task.AuxiliaryLoss(task.Loss(main, new MaskBatch(masks)), aux, masks);
        Assert.Equal([SegmentationTask.LossTerm, SegmentationTask.AuxiliaryTerm], terms.Terms.Select(t => t.Name));
        var expected = F.CrossEntropy(F.Interpolate(aux, 8, 8, InterpolationMode.Bilinear, true), masks, ignoreIndex: 255).Item<float>() * 0.4;
        Assert.Equal(expected, terms[SegmentationTask.AuxiliaryTerm].Item<float>(), 5);
    }

    [Fact]
    public void SegmentationTask_IsRegistered_AndARecipeMayNameIt()
    {
        Assert.IsType<SegmentationTask>(TrainingTasks.Create("segmentation"));
        Assert.Contains("segmentation", TrainingTasks.Names);
        Assert.Equal("segmentation", Recipes.Parse("student:\n  model: resnet8\ntask: segmentation\n").Task);
    }

    [Fact]
    public void TinyResidualSegmenter_TrainsThroughTheTrainer_LossFallsAndMIoUPicksTheBest()
    {
        var data = new BlobDataset(64);
        TorchRuntime.ManualSeed(0);
        using var student = new TinyResidualSegmenter(3, 8);
        IReadOnlyList<EpochResult> results;
        using (var trainer = new Trainer(student, null, null, new TrainerOptions { Epochs = 4, Schedule = "cosine", LearningRate = 0.1 }, SegmentationTask.Default))
        {
            results = trainer.Fit(new DataLoader(data, 8, shuffle: true, seed: 1), new DataLoader(data, 32));
        }

        Assert.All(results, r => Assert.Equal([SegmentationTask.LossTerm], r.LossTerms.Keys));
        Assert.All(results, r => Assert.Equal(SegmentationTask.MeanIoU, r.PrimaryMetric));
        Assert.All(results, r => Assert.Equal(r.Metrics[SegmentationTask.MeanIoU], r.TestAccuracy));
        Assert.True(results[^1].LossTerms[SegmentationTask.LossTerm] < 0.7 * results[0].LossTerms[SegmentationTask.LossTerm],
            $"the loss did not fall: {string.Join("; ", results)}");
        Assert.True(results[^1].TestAccuracy > results[0].TestAccuracy + 0.1, $"mIoU did not rise: {string.Join("; ", results)}");
    }

    /// <summary>Images whose channels are the one-hot of a prediction, with the given truth as mask; one image per row of 5 pixels.</summary>
    internal sealed class FixedDataset(byte[] prediction, byte[] truth, int classes, int height, int width) : IImageDataset
    {
        public int Count => prediction.Length / (height * width);

        public IReadOnlyList<string> Classes { get; } = [.. Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture))];

        public Sample Get(int index)
        {
            var n = height * width;
            var pixels = new float[classes * n];
            for (var i = 0; i < n; i++)
            {
                pixels[(prediction[(index * n) + i] * n) + i] = 1;
            }

            return new Sample(new Image(classes, height, width, pixels), new Mask(height, width, truth[(index * n)..((index + 1) * n)]), index);
        }

        public int LabelOf(int index) => throw new NotSupportedException("masks only");
    }

    /// <summary>Random rectangles of classes 1-2 on background 0, a fifth of the border ignored; the image shows the class as its channel.</summary>
    private sealed class BlobDataset(int count) : IImageDataset
    {
        private const int Side = 16;

        public int Count => count;

        public IReadOnlyList<string> Classes { get; } = ["background", "a", "b"];

        public Sample Get(int index)
        {
            var random = new Random(index);
            var mask = new byte[Side * Side];
            for (var blob = 0; blob < 2; blob++)
            {
                var (y0, x0, h, w) = (random.Next(0, 10), random.Next(0, 10), random.Next(3, 7), random.Next(3, 7));
                for (var y = y0; y < y0 + h; y++)
                {
                    for (var x = x0; x < x0 + w; x++)
                    {
                        mask[(y * Side) + x] = (byte)(blob + 1);
                    }
                }
            }

            var pixels = new float[3 * Side * Side];
            for (var i = 0; i < mask.Length; i++)
            {
                pixels[(mask[i] * Side * Side) + i] = 0.8f + (0.2f * random.NextSingle());
                if (i < Side && random.Next(5) == 0)
                {
                    mask[i] = Mask.Ignore;
                }
            }

            return new Sample(new Image(3, Side, Side, pixels), new Mask(Side, Side, mask), index);
        }

        public int LabelOf(int index) => throw new NotSupportedException("masks only");
    }

    /// <summary>Outputs its input: the images are the logits.</summary>
    internal sealed class Passthrough : ClassificationModel
    {
        protected override Tensor ForwardCore(Tensor input) => input;
    }

    /// <summary>A ResNet in miniature: a stride-2 conv-BN-ReLU stem, one basic residual block and a 1x1 classifier, logits at half the input size.</summary>
    private sealed class TinyResidualSegmenter : ClassificationModel
    {
        private readonly Sequential _stem;
        private readonly Sequential _branch;
        private readonly Conv2d _classifier;

        public TinyResidualSegmenter(int classes, int width)
        {
            _stem = RegisterModule("stem", new Sequential(new Conv2d(3, width, 3, stride: 2, padding: 1), new BatchNorm2d(width), new ReLU()));
            _branch = RegisterModule("block", new Sequential(new Conv2d(width, width, 3, padding: 1), new BatchNorm2d(width), new ReLU(), new Conv2d(width, width, 3, padding: 1), new BatchNorm2d(width)));
            _classifier = RegisterModule("classifier", new Conv2d(width, classes, 1));
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var x = _stem.Forward(input);
            return _classifier.Forward(F.Relu(x + _branch.Forward(x)));
        }
    }
}
