using Distill.Configs;
using Distill.Engine;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>A tiny end-to-end run on IDX files the test writes: every artifact, resume equality, then KD from the result.</summary>
public sealed class TrainingRunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Run_WritesEveryArtifact_ResumesBitExact_AndFeedsATeacherToKd()
    {
        TinyIdx.Write(_root, 96, 32);
        var recipe = TinyIdx.Recipe(_root, $"""
            train:
              epochs: 3
              lr: 0.05
              schedule: cosine
              seed: 3
            output: {Path.Combine(_root, "straight")}
            """);
        var straight = Recipes.Parse(recipe);
        var summary = TrainingRun.Execute(straight);
        Assert.Equal(3, summary.Epochs.Count);
        foreach (var artifact in new[] { "config.yaml", "log.jsonl", "epochs.csv", "last.safetensors", "best.safetensors", "report.html", "steps.jsonl" })
        {
            Assert.True(File.Exists(Path.Combine(straight.Output, artifact)), artifact);
        }

        Assert.Equal(3, File.ReadAllLines(Path.Combine(straight.Output, "log.jsonl")).Length);
        var firstStep = File.ReadLines(Path.Combine(straight.Output, "steps.jsonl")).First();
        Assert.Contains("\"LossTerms\":{\"ce\":", firstStep, StringComparison.Ordinal);
        Assert.Contains("\"LearningRate\":0.05", firstStep, StringComparison.Ordinal);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(straight.Output, "epochs.csv")).Length);
        Assert.Equal(ConfigWriter.ToYaml(straight), File.ReadAllText(Path.Combine(straight.Output, "config.yaml")));

        var interrupted = straight with { Output = Path.Combine(_root, "interrupted") };
        Assert.Throws<OperationCanceledException>(() => TrainingRun.Execute(interrupted, onEpoch: e =>
        {
            if (e.Epoch == 2)
            {
                throw new OperationCanceledException("killed after epoch 2");
            }
        }));
        Assert.Throws<ConfigException>(() => TrainingRun.Execute(interrupted));
        var resumed = TrainingRun.Execute(interrupted, resume: true);
        Assert.Equal([3], resumed.Epochs.Select(e => e.Epoch));
        using (DisposeScope.Enter())
        {
            using var a = SafeTensors.Load(Path.Combine(straight.Output, "last.safetensors"));
            using var b = SafeTensors.Load(Path.Combine(interrupted.Output, "last.safetensors"));
            foreach (var (key, value) in a.Tensors.Where(t => t.Key.StartsWith("model.", StringComparison.Ordinal)))
            {
                Assert.True(value.ToBytes().SequenceEqual(b.Tensors[key].ToBytes()), $"{key} differs after resume");
            }
        }

        var kd = Recipes.Parse(recipe, overrides:
        [
            "method.name=kd", "teacher.model=resnet8", $"teacher.checkpoint={Path.Combine(straight.Output, "best.safetensors")}",
            "train.epochs=1", $"output={Path.Combine(_root, "kd")}",
        ]);
        var distilled = TrainingRun.Execute(kd);
        Assert.Equal(["ce", "kd"], distilled.Epochs[0].LossTerms.Keys);
        Assert.False(double.IsNaN(distilled.Epochs[0].LossTerms["kd"]));

        // Methods with state resume bit-exact too: CTKD's temperature, Matching Guided Distillation's assignment
        // (matched before epoch 1 only, so the resumed epoch 2 must read it back), CRD's memory banks and normalisers, MGD's random masks.
        foreach (var (name, options, stateKey) in new[]
        {
            ("ctkd", Array.Empty<string>(), "distiller.theta"),
            ("matching", ["method.match_images=32", "method.update_freq=2"], "distiller.assignment0"),
            ("crd", ["method.nce_k=16"], "distiller.student_memory"),
            ("mgd", Array.Empty<string>(), "distiller.generation.0.weight"),
        })
        {
            var run = Recipes.Parse(recipe, overrides:
            [
                $"method.name={name}", .. options, "teacher.model=resnet8", $"teacher.checkpoint={Path.Combine(straight.Output, "best.safetensors")}",
                "train.epochs=2", $"output={Path.Combine(_root, name)}",
            ]);
            TrainingRun.Execute(run);
            var runInterrupted = run with { Output = Path.Combine(_root, name + "-interrupted") };
            Assert.Throws<OperationCanceledException>(() => TrainingRun.Execute(runInterrupted, onEpoch: _ => throw new OperationCanceledException()));
            TrainingRun.Execute(runInterrupted, resume: true);
            using (DisposeScope.Enter())
            {
                using var a = SafeTensors.Load(Path.Combine(run.Output, "last.safetensors"));
                using var b = SafeTensors.Load(Path.Combine(runInterrupted.Output, "last.safetensors"));
                Assert.Contains(stateKey, a.Tensors.Keys);
                foreach (var (key, value) in a.Tensors.Where(t => !t.Key.StartsWith("rng", StringComparison.Ordinal)))
                {
                    Assert.True(value.ToBytes().SequenceEqual(b.Tensors[key].ToBytes()), $"{name} {key} differs after resume");
                }
            }
        }
    }

    [Fact]
    public void Run_WithAdamWPerIterationPolyWarmupAndClipping_StartsAtTheWarmupRate_AndResumesBitExact()
    {
        TinyIdx.Write(_root, 96, 32);
        var recipe = TinyIdx.Recipe(_root, $"""
            train:
              epochs: 3
              lr: 0.002
              optimizer: adamw
              weight_decay: 0.01
              no_weight_decay_on: [bn, bias]
              schedule: poly
              step_per: iteration
              warmup_iters: 4
              warmup_start_factor: 0.25
              grad_clip: 1.0
              seed: 5
            output: {Path.Combine(_root, "straight")}
            """);
        var straight = Recipes.Parse(recipe);
        var summary = TrainingRun.Execute(straight);

        // 96 images in batches of 16: 6 iterations per epoch. Epoch 1 starts at the warm-up's first rate; epoch 2 at
        // poly's rate 2 of 14 iterations after the 4 of warm-up: 0.002 (1 - 2/14)^0.9 (to float64 rounding).
        Assert.Equal(0.002 * 0.25, summary.Epochs[0].LearningRate, 15);
        Assert.Equal(0.002 * Math.Pow(12.0 / 14, 0.9), summary.Epochs[1].LearningRate, 12);

        var interrupted = straight with { Output = Path.Combine(_root, "interrupted") };
        Assert.Throws<OperationCanceledException>(() => TrainingRun.Execute(interrupted, onEpoch: e =>
        {
            if (e.Epoch == 2)
            {
                throw new OperationCanceledException("killed after epoch 2");
            }
        }));
        var changed = Recipes.Parse(recipe, overrides: ["train.grad_clip=2", $"output={interrupted.Output}"]);
        var refused = Assert.Throws<ConfigException>(() => TrainingRun.Execute(changed, resume: true));
        Assert.Contains("train.grad_clip is 1 in the checkpoint and 2 in the recipe", refused.Message, StringComparison.Ordinal);

        var resumed = TrainingRun.Execute(interrupted, resume: true);
        Assert.Equal(summary.Epochs[2].LearningRate, resumed.Epochs.Single().LearningRate);
        using (DisposeScope.Enter())
        {
            using var a = SafeTensors.Load(Path.Combine(straight.Output, "last.safetensors"));
            using var b = SafeTensors.Load(Path.Combine(interrupted.Output, "last.safetensors"));
            Assert.Equal(a.Metadata["distill.learning_rates"], b.Metadata["distill.learning_rates"]);
            Assert.Equal("18", a.Metadata["distill.scheduler_epoch"]);
            foreach (var (key, value) in a.Tensors.Where(t => !t.Key.StartsWith("rng", StringComparison.Ordinal)))
            {
                Assert.True(value.ToBytes().SequenceEqual(b.Tensors[key].ToBytes()), $"{key} differs after resume");
            }
        }
    }
}
