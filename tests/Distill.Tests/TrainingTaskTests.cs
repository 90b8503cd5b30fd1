using System.Globalization;
using System.Text.Json;
using Distill.Configs;
using Distill.Engine;
using Distill.Engine.Comparison;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>The trainer is generic over the task: a task it has never heard of trains through it unchanged.</summary>
public sealed class TrainingTaskTests
{
    private const int Side = 4;

    [Fact]
    public void ToyPixelTask_OnMasks_TrainsThroughTheTrainer_WithItsOwnLossMetricsAndBest()
    {
        var data = new HalvesDataset(128);
        var train = new DataLoader(data, 16, shuffle: true, seed: 3);
        var test = new DataLoader(data, 64);
        TorchRuntime.ManualSeed(0);

        // A classification network whose K = 2 x 4 x 4 logits the toy task reads as two class maps of 4 x 4 pixels.
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2 * Side * Side, 1, Side));
        var task = new PixelTask();
        IReadOnlyList<EpochResult> results;
        using (var trainer = new Trainer(student, null, null, new TrainerOptions { Epochs = 4, Schedule = "cosine", LearningRate = 0.05 }, task))
        {
            Assert.Same(task, trainer.Task);
            results = trainer.Fit(train, test);
        }

        Assert.All(results, r => Assert.Equal([PixelTask.Term], r.LossTerms.Keys));
        Assert.All(results, r => Assert.Equal(PixelTask.PixelAccuracy, r.PrimaryMetric));
        Assert.All(results, r => Assert.Equal([PixelTask.PixelAccuracy, PixelTask.ForegroundAccuracy], r.Metrics.Keys));
        Assert.All(results, r => Assert.Equal(r.Metrics[PixelTask.PixelAccuracy], r.TestAccuracy));
        Assert.True(results[^1].TestAccuracy > 0.95, $"the toy task did not learn: {string.Join("; ", results)}");
        Assert.True(results[^1].TrainAccuracy > 0.5, $"train pixel accuracy {results[^1].TrainAccuracy}");
        Assert.True(results[^1].LossTerms[PixelTask.Term] < results[0].LossTerms[PixelTask.Term]);
    }

    [Fact]
    public void ClassificationTask_OnMaskTargets_SaysWhichTargetsItWants()
    {
        using var scope = DisposeScope.Enter();
        var masks = new MaskBatch(Tensor.Zeros([2, Side, Side], DType.Int64));
        var e = Assert.Throws<ArgumentException>(() => ClassificationTask.Default.Loss(Tensor.Zeros([2, 3]), masks));
        Assert.StartsWith("the classification task trains on class labels; this batch carries masks", e.Message, StringComparison.Ordinal);
        var inputs = new DistillationInputs(Tensor.Zeros([2, 3]), null, masks, Tensor.Zeros([2], DType.Int64), null, null, 1);
        Assert.Equal("this step carries masks, not class labels", Assert.Throws<InvalidOperationException>(() => inputs.Labels).Message);
    }

    [Fact]
    public void OldRunLogLine_ReadsBack_AsClassificationTop1_AndAClassificationResultWritesTheSameLineAsBefore()
    {
        // A log.jsonl line as runs wrote it before epoch results carried the task's metrics.
        const string old = "{\"Epoch\":3,\"LearningRate\":0.05,\"LossTerms\":{\"ce\":0.5,\"kd\":0.25},\"TrainAccuracy\":0.875,\"TestAccuracy\":0.8125,\"ImagesPerSecond\":100.5,\"Seconds\":2,\"OwnLossTerms\":[]}";
        var back = JsonSerializer.Deserialize<EpochResult>(old, RunLogJson.Options)!;
        Assert.Equal(ClassificationTask.Top1, back.PrimaryMetric);
        Assert.Equal(new Dictionary<string, double> { [ClassificationTask.Top1] = 0.8125 }, back.Metrics);
        Assert.Equal((0.875, 0.8125), (back.TrainAccuracy, back.TestAccuracy));

        // The metrics the trainer adds stay out of the line: a classification run's log is byte for byte as before.
        var withMetrics = back with { Metrics = new Dictionary<string, double> { ["top1"] = 0.8125, ["top5"] = 1 }, PrimaryMetric = ClassificationTask.Top1 };
        Assert.Equal(old, JsonSerializer.Serialize(withMetrics, RunLogJson.Options));
    }

    [Fact]
    public void Recipe_NamesItsTask_ClassificationByDefault_AnUnknownOneRefusedAtItsLine()
    {
        Assert.Equal("classification", Recipes.Parse("student:\n  model: resnet8\n").Task);
        Assert.Equal("classification", Recipes.Parse("student:\n  model: resnet8\ntask: classification\n").Task);
        Assert.DoesNotContain("task", ConfigWriter.ToYaml(Recipes.Parse("student:\n  model: resnet8\n")), StringComparison.Ordinal);
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse("student:\n  model: resnet8\ntask: tracking\n", "recipe.yaml"));
        Assert.StartsWith("recipe.yaml:3:", e.Message, StringComparison.Ordinal);
        Assert.Contains("classification", e.Message, StringComparison.Ordinal);
        Assert.IsType<ClassificationTask>(TrainingTasks.Create("classification"));
    }

    [Fact]
    public void Report_LabelsThePrimaryMetric_ByTheTasksName()
    {
        var epochs = new[] { new EpochResult(1, 0.1, new Dictionary<string, double> { [PixelTask.Term] = 0.5 }, 0.7, 0.8, 100, 1) };
        var html = ReportWriter.Render("t", [new ReportWriter.Series("s", epochs)], [new ReportWriter.ResultRow("resnet8", "alone", [0.8])], new PixelTask().PrimaryMetricLabel);
        // One seed: no "mean ± std" in the report, nor in the table's header when no row has more than one run.
        Assert.Contains("final test pixel accuracy</th>", html, StringComparison.Ordinal);
        Assert.Contains("pixel accuracy per epoch (%)", html, StringComparison.Ordinal);
        Assert.DoesNotContain("top-1", html, StringComparison.Ordinal);
        Assert.Equal("final test pixel accuracy (mean ± std)", ComparisonRun.Header(new PixelTask().PrimaryMetricLabel)[1]);
        Assert.Equal(ComparisonRun.TableHeader, ComparisonRun.Header(ClassificationTask.Default.PrimaryMetricLabel));
        Assert.Equal("final test pixel accuracy", ComparisonRun.Header(new PixelTask().PrimaryMetricLabel, [new ComparisonRow("resnet8", "alone", [0.8], 1, 1)])[1]);
        Assert.Equal("final test pixel accuracy (mean ± std)", ComparisonRun.Header(new PixelTask().PrimaryMetricLabel, [new ComparisonRow("resnet8", "alone", [0.8], 1, 1), new ComparisonRow("resnet8", "kd", [0.8, 0.7], 1, 1)])[1]);
        Assert.Contains("final test top-1</th>", ReportWriter.Render("t", [new ReportWriter.Series("s", epochs)], [new ReportWriter.ResultRow("resnet8", "alone", [0.8])]), StringComparison.Ordinal);
    }

    /// <summary>Images whose left or right half is bright; the mask marks the bright pixels (class 1).</summary>
    private sealed class HalvesDataset(int count) : IImageDataset
    {
        public int Count => count;

        public IReadOnlyList<string> Classes { get; } = ["dark", "bright"];

        public Sample Get(int index)
        {
            var random = new Random(index);
            var pixels = new float[Side * Side];
            var mask = new byte[Side * Side];
            for (var y = 0; y < Side; y++)
            {
                for (var x = 0; x < Side; x++)
                {
                    var bright = (x < Side / 2) == (index % 2 == 0);
                    pixels[(y * Side) + x] = (bright ? 0.8f : 0.1f) + (0.1f * random.NextSingle());
                    mask[(y * Side) + x] = bright ? (byte)1 : (byte)0;
                }
            }

            return new Sample(new Image(1, Side, Side, pixels), new Mask(Side, Side, mask), index);
        }

        public int LabelOf(int index) => throw new NotSupportedException("the halves set labels pixels, not images");
    }

    /// <summary>
    /// A task the trainer does not know: per-pixel classification of <see cref="MaskBatch"/> targets from [B, 2 x H x W]
    /// logits, cross-entropy "pixel_ce" (ignore index 255) weighted by the method's task-loss weight, pixel accuracy first.
    /// </summary>
    private sealed class PixelTask : ITrainingTask
    {
        public const string Term = "pixel_ce";

        public const string PixelAccuracy = "pixel_acc";

        public const string ForegroundAccuracy = "fg_acc";

        public string Name => "pixels";

        public string PrimaryMetric => PixelAccuracy;

        public string PrimaryMetricLabel => "pixel accuracy";

        public string TrainMetricLabel => PrimaryMetricLabel;

        public IReadOnlyList<(string Name, string Description)> Models => [];

        public TappedModel<Tensor> CreateModel(string name, ModelOptions options) => throw new KeyNotFoundException(name);

        public ITrainingTask ForModel(TappedModel<Tensor> model) => this;

        public IReadOnlyList<string> StudentTaps(TappedModel<Tensor> student) => [];

        public LossTerms Loss(Tensor outputs, IBatchTargets targets) => Loss(outputs, targets, 1);

        public LossTerms StepLoss(Distiller? method, DistillationInputs inputs)
        {
            var terms = Loss(inputs.StudentLogits, inputs.Targets, method?.TaskLossWeight ?? 1);
            return method is null ? terms : terms.AddRange(method.ComputeLoss(inputs));
        }

        public Tensor PrimarySum(Tensor outputs, IBatchTargets targets)
        {
            var masks = Masks(targets);
            return Maps(outputs, masks).ArgMax(1).Eq(masks).To(DType.Float32).Mean([1, 2]).Sum();
        }

        public TaskEvaluation Evaluate(TappedModel<Tensor> model, DataLoader loader, bool breakdown = false, Distill.Torch.Distributed.IProcessGroup? group = null)
        {
            var training = model.IsTraining;
            model.Eval();
            try
            {
                using var inference = Autograd.InferenceMode();
                double correct = 0, pixels = 0, foreground = 0, foregroundCorrect = 0;
                long samples = 0;
                using var batches = loader.Epoch(0).GetEnumerator();
                while (true)
                {
                    using var scope = DisposeScope.Enter();
                    if (!batches.MoveNext())
                    {
                        break;
                    }

                    var masks = Masks(batches.Current.Targets);
                    var hit = Maps(model.Forward(batches.Current.Images), masks).ArgMax(1).Eq(masks);
                    var isForeground = masks.Eq(1);
                    correct += hit.Sum(DType.Int64).Item<long>();
                    pixels += masks.NumberOfElements;
                    foreground += isForeground.Sum(DType.Int64).Item<long>();
                    foregroundCorrect += hit.LogicalAnd(isForeground).Sum(DType.Int64).Item<long>();
                    samples += batches.Current.Size;
                }

                return new TaskEvaluation(samples, new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    [PixelAccuracy] = correct / pixels,
                    [ForegroundAccuracy] = foregroundCorrect / foreground,
                }, PixelAccuracy);
            }
            finally
            {
                model.Train(training);
            }
        }

        public string Describe(TaskEvaluation evaluation) =>
            string.Join(", ", evaluation.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:P2}")));

        private static Tensor Masks(IBatchTargets targets) => ((MaskBatch)targets).Masks;

        private static Tensor Maps(Tensor outputs, Tensor masks) => outputs.Reshape(masks.Size(0), 2, masks.Size(1), masks.Size(2));

        private static LossTerms Loss(Tensor outputs, IBatchTargets targets, double weight)
        {
            var masks = Masks(targets);
            var ce = F.CrossEntropy(Maps(outputs, masks), masks, ignoreIndex: Mask.Ignore);
            return new LossTerms().Add(Term, weight == 1 ? ce : ce * weight);
        }
    }
}
