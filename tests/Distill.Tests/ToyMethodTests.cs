using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>
/// A new method is one class (with its nested Options record) plus one registration line: the toy below (a
/// logit-norm penalty that needs no teacher)
/// trains through `distill train`'s pipeline, returns only its own term, and the log still shows the task's "ce".
/// </summary>
public sealed class ToyMethodTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-toy-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ToyMethod_RegisteredInOneLine_TrainsAndLogsOnlyItsTermBesideTheTasksCe()
    {
        using var registration = MethodFactory.Register<ToyLogitNorm.Options>("toy", "Toy logit-norm penalty (test only)", "-", (o, _) => new ToyLogitNorm(o));
        TinyIdx.Write(_root, 48, 16);
        var config = Recipes.Parse(TinyIdx.Recipe(_root, $"""
            method:
              name: toy
              weight: 0.5
              ce_weight: 0.25
            train:
              epochs: 1
              lr: 0.05
              seed: 1
            output: {Path.Combine(_root, "run")}
            """));

        var summary = TrainingRun.Execute(config);

        Assert.Equal(["ce", "toy"], summary.Epochs[0].LossTerms.Keys);
        Assert.All(summary.Epochs[0].LossTerms.Values, v => Assert.True(double.IsFinite(v) && v > 0));
        var firstStep = File.ReadLines(Path.Combine(config.Output, "steps.jsonl")).First();
        Assert.Contains("\"LossTerms\":{\"ce\":", firstStep, StringComparison.Ordinal);
        Assert.Contains("\"toy\":", firstStep, StringComparison.Ordinal);
    }

    [Fact]
    public void ToyMethod_ReturnsOnlyItsOwnTerm_AndItsCeWeightWeighsTheTasksLoss()
    {
        using var scope = DisposeScope.Enter();
        using var toy = new ToyLogitNorm(new() { Weight = 0.5, CeWeight = 0.25 });
        var logits = Tensor.From([1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f], 2, 3);
        var labels = Tensor.From([1L, 2L]);
        var inputs = new DistillationInputs(logits, null, labels, labels, null, null, 1);

        Assert.Equal(["toy"], toy.ComputeLoss(inputs).Terms.Select(t => t.Name));
        var step = Distill.Tasks.ClassificationTask.Default.StepLoss(toy, inputs);
        Assert.Equal(["ce", "toy"], step.Terms.Select(t => t.Name));
        Assert.Equal(F.CrossEntropy(logits, labels).Item<float>() * 0.25f, step["ce"].Item<float>(), 6);
    }

    /// <summary>The toy: weight × mean squared logit. Needs no teacher; its <c>ce_weight</c> is the task-loss weight.</summary>
    private sealed class ToyLogitNorm(ToyLogitNorm.Options options) : Distiller
    {
        public override string Name => "toy";

        public override bool NeedsTeacher => false;

        public override double TaskLossWeight => options.CeWeight;

        public override LossTerms ComputeLoss(DistillationInputs inputs) =>
            new LossTerms().Add("toy", inputs.StudentLogits.Square().Mean() * options.Weight);

        /// <summary>The toy's options: its recipe keys and defaults.</summary>
        public sealed record Options : MethodOptions
        {
            [OptionInfo("penalty weight")]
            public double Weight { get; init; } = 1;

            [OptionInfo("task-loss weight")]
            public double CeWeight { get; init; } = 1;

            public override bool NeedsTeacher => false;
        }
    }
}
