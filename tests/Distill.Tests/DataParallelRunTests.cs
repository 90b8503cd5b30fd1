using Distill.Configs;
using Distill.Engine;
using Distill.Testing;
using Xunit;

namespace Distill.Tests;

/// <summary>A recipe run as a two-rank job on the in-process thread group: what rank 0 writes, what the ranks refuse.</summary>
public sealed class DataParallelRunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-ddp-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TwoRanks_RankZeroAloneWritesTheFolder_OncePerEpoch_AndResumeRefusesAnotherWorldSize()
    {
        TinyIdx.Write(_root, 32, 16);
        var recipe = Recipes.Parse(TinyIdx.Recipe(_root, $"train:\n  epochs: 2\n  seed: 3\noutput: {Path.Combine(_root, "run")}\n"));
        var interrupted = false;
        var summaries = ThreadProcessGroup.Run(2, g =>
        {
            try
            {
                // Both ranks stop after epoch 1, as a killed job would (rank 0 has checkpointed it).
                return TrainingRun.Execute(recipe, g, false, null, e =>
                {
                    if (e.Epoch == 1)
                    {
                        throw new OperationCanceledException("stopped after epoch 1");
                    }
                }, TextWriter.Null);
            }
            catch (OperationCanceledException)
            {
                interrupted = true;
                return null;
            }
        });
        Assert.True(interrupted);
        Assert.All(summaries, Assert.Null);
        foreach (var artifact in new[] { "config.yaml", "log.jsonl", "epochs.csv", "last.safetensors", "best.safetensors", "report.html", "steps.jsonl" })
        {
            Assert.True(File.Exists(Path.Combine(recipe.Output, artifact)), artifact);
        }

        // One line per epoch: rank 1 wrote nothing (16 images per rank, global batch 16: one step of 8 per rank, one steps line).
        Assert.Single(File.ReadAllLines(Path.Combine(recipe.Output, "log.jsonl")));
        Assert.Single(File.ReadAllLines(Path.Combine(recipe.Output, "steps.jsonl")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(recipe.Output, "epochs.csv")).Length);

        var error = Assert.Throws<ConfigException>(() => TrainingRun.Execute(recipe, resume: true)).Message;
        Assert.Contains("trained by 2 process(es) and this run has 1", error, StringComparison.Ordinal);
        Assert.Contains("--nproc 2", error, StringComparison.Ordinal);

        var resumed = ThreadProcessGroup.Run(2, g => TrainingRun.Execute(recipe, g, true, null, null, TextWriter.Null));
        Assert.All(resumed, s => Assert.Equal([2], s.Epochs.Select(e => e.Epoch)));
        Assert.Equal(resumed[0].Epochs[0].LossTerms, resumed[1].Epochs[0].LossTerms);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(recipe.Output, "log.jsonl")).Length);
    }

    [Fact]
    public void GlobalBatchNotDivisibleByTheWorldSize_IsRefusedNamingTheKey_BeforeTheFolderIsMade()
    {
        TinyIdx.Write(_root, 32, 16);
        var recipe = Recipes.Parse(TinyIdx.Recipe(_root, $"output: {Path.Combine(_root, "odd")}\n"), "odd.yaml", ["data.batch_size=15"]);
        var errors = ThreadProcessGroup.Run(2, g => Assert.Throws<ConfigException>(() => TrainingRun.Execute(recipe, g, false, null, null, TextWriter.Null)).Message);
        Assert.All(errors, e => Assert.Contains("data.batch_size 15 is the global batch of the 2 processes and must be divisible by 2", e, StringComparison.Ordinal));
        Assert.False(Directory.Exists(recipe.Output));
    }
}
