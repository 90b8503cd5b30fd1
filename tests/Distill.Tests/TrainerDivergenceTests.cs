using System.Text.Json;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>A loss term or a weight that turns NaN or infinite stops the trainer, naming the epoch, step and term, before the epoch is reported (and so checkpointed).</summary>
public sealed class TrainerDivergenceTests
{
    [Theory]
    [InlineData(2, 13, float.NaN, "NaN")]
    [InlineData(1, 1, float.PositiveInfinity, "Infinity")]
    [InlineData(2, 16, float.NegativeInfinity, "-Infinity")]
    public void NonFiniteTerm_StopsAtTheFirstBadStep_NamesEpochStepAndTerm_AndReportsNoEpochAfterIt(int epoch, int step, float value, string printed)
    {
        var (train, test) = Loaders();
        TorchRuntime.ManualSeed(0);
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using var poison = new Poison(epoch, step, value, gradientOnly: false);
        using var trainer = new Trainer(student, null, poison, new TrainerOptions { Epochs = 3, Schedule = "cosine", LearningRate = 0.05 });
        var reported = new List<int>();
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train, test, onEpoch: r => reported.Add(r.Epoch)));
        Assert.Equal((epoch, step, "poison"), (e.Epoch, e.Step, e.Term));
        Assert.Contains($"loss term 'poison' is {printed} at epoch {epoch}, step {step}", e.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, epoch - 1), reported);
    }

    [Fact]
    public void FiniteLossWithANonFiniteGradient_AtTheEpochsLastStep_IsCaughtInTheWeights_BeforeTheEpochIsReported()
    {
        var (train, test) = Loaders();
        TorchRuntime.ManualSeed(0);
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using var poison = new Poison(1, train.BatchCount, 0, gradientOnly: true);
        using var trainer = new Trainer(student, null, poison, new TrainerOptions { Epochs = 2, Schedule = "cosine", LearningRate = 0.05 });
        var reported = new List<int>();
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train, test, onEpoch: r => reported.Add(r.Epoch)));
        Assert.StartsWith("parameter '", e.Term, StringComparison.Ordinal);
        Assert.Equal((1, train.BatchCount), (e.Epoch, e.Step));
        Assert.Empty(reported);
    }

    [Fact]
    public void RunLogJson_WritesNonFiniteNumbersAsStrings_AndReadsThemBack()
    {
        var result = new EpochResult(1, 0.1, new Dictionary<string, double> { ["ce"] = double.NaN, ["kd"] = double.PositiveInfinity }, 0.5, 0.5, double.NegativeInfinity, 1);
        var line = JsonSerializer.Serialize(result, RunLogJson.Options);
        Assert.Contains("\"ce\":\"NaN\",\"kd\":\"Infinity\"", line, StringComparison.Ordinal);
        Assert.Contains("\"ImagesPerSecond\":\"-Infinity\"", line, StringComparison.Ordinal);
        var back = JsonSerializer.Deserialize<EpochResult>(line, RunLogJson.Options)!;
        Assert.True(double.IsNaN(back.LossTerms["ce"]));
        Assert.True(double.IsPositiveInfinity(back.LossTerms["kd"]));
        Assert.Equal(0.5, back.TrainAccuracy);
    }

    [Fact]
    public void Report_DrawsNoNonFinitePoint()
    {
        var epochs = new[]
        {
            new EpochResult(1, 0.1, new Dictionary<string, double> { ["ce"] = 2.0 }, 0.5, 0.5, 100, 1),
            new EpochResult(2, 0.1, new Dictionary<string, double> { ["ce"] = double.NaN }, 0.5, 0.6, double.NaN, 1),
            new EpochResult(3, 0.1, new Dictionary<string, double> { ["ce"] = 1.0 }, 0.5, 0.7, 100, 1),
        };
        var path = Path.Combine(Path.GetTempPath(), $"distill-report-{Guid.NewGuid():N}.html");
        try
        {
            ReportWriter.Write(path, "t", [new ReportWriter.Series("s", epochs)], [new ReportWriter.ResultRow("resnet8", "kd", [0.7])]);
            var html = File.ReadAllText(path);
            Assert.DoesNotContain("NaN", html, StringComparison.Ordinal);
            Assert.DoesNotContain("Infinity", html, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (DataLoader Train, DataLoader Test) Loaders()
    {
        // 20 batches of 8: the divergence window (10 steps between looks at the sums) is crossed.
        const int Count = 160, Size = 16;
        var pixels = new byte[Count * Size * Size];
        var labels = new int[Count];
        for (var i = 0; i < Count; i++)
        {
            labels[i] = i % 2;
            for (var p = 0; p < Size * Size; p++)
            {
                pixels[(i * Size * Size) + p] = (byte)(((p % Size) < Size / 2) == (labels[i] == 0) ? 200 : 30);
            }
        }

        var data = new InMemoryImageDataset(pixels, labels, 1, Size, Size, ["left", "right"]);
        return (new DataLoader(data, 8, shuffle: true, seed: 1), new DataLoader(data, 64));
    }

    /// <summary>A "poison" term (the task adds the cross-entropy before it) that is 0 except at one step: there it is <c>value</c>, or (gradientOnly) sqrt(0 * logits), finite with an infinite gradient.</summary>
    private sealed class Poison(int badEpoch, int badStep, float value, bool gradientOnly) : Distiller
    {
        private int _epoch;
        private int _step;

        public override string Name => "poison";

        public override bool NeedsTeacher => false;

        public override void OnEpochStart(int epoch, int totalEpochs)
        {
            _epoch = epoch;
            _step = 0;
        }

        public override LossTerms ComputeLoss(DistillationInputs inputs)
        {
            _step++;
            var hit = _epoch == badEpoch && _step == badStep;
            var term = !hit ? (inputs.StudentLogits * 0.0).Sum()
                : gradientOnly ? (inputs.StudentLogits * 0.0).Sqrt().Sum()
                : (inputs.StudentLogits * 0.0).Sum() + value;
            return new LossTerms().Add("poison", term);
        }
    }
}
