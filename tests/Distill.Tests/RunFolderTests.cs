using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Distill.Configs;
using Distill.Engine;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// Faults around a run folder, simulated by hand (files a crash would leave, a lock of a dead or live process,
/// a changed recipe): the folder stays truthful, and a refused resume changes nothing in it.
/// </summary>
public sealed class RunFolderTests : IDisposable
{
    // Above Linux's largest pid_max (2^22): no process can have it.
    private const int DeadPid = 4_194_305;

    private readonly string _root = Directory.CreateTempSubdirectory("distill-folder-").FullName;

    public RunFolderTests()
    {
        TinyIdx.Write(_root, 48, 16, gzip: false);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Resume_WithRecipeChanges_NamesEveryKeyWithBothValues_AndChangesNothingOnDisk()
    {
        var run = Recipe("changed", "multistep", 2);
        Assert.Throws<OperationCanceledException>(() => TrainingRun.Execute(run, onEpoch: _ => throw new OperationCanceledException()));
        var before = Hash(run.Output);
        var changed = run with
        {
            Data = run.Data with { BatchSize = 8, Flip = false },
            Student = run.Student with { Model = "resnet14" },
            Train = run.Train with { Lr = 0.1, Seed = 4, Milestones = [1] },
        };
        var e = Assert.Throws<ConfigException>(() => TrainingRun.Execute(changed, resume: true));
        Assert.StartsWith($"cannot resume {run.Output}: the recipe differs from the one its checkpoint (epoch 1) was trained with: ", e.Message, StringComparison.Ordinal);
        foreach (var difference in new[]
        {
            "data.batch_size is 16 in the checkpoint and 8 in the recipe",
            "data.augment is \"crop+flip\" in the checkpoint and \"crop\" in the recipe",
            "student.model is \"resnet8\" in the checkpoint and \"resnet14\" in the recipe",
            "train.lr is 0.05 in the checkpoint and 0.1 in the recipe",
            "train.milestones is [2] in the checkpoint and [1] in the recipe",
            "train.seed is 3 in the checkpoint and 4 in the recipe",
        })
        {
            Assert.Contains(difference, e.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(before, Hash(run.Output));

        // The folder may move: output is not part of the result.
        Directory.Move(run.Output, run.Output + "-moved");
        Assert.Equal([2], TrainingRun.Execute(run with { Output = run.Output + "-moved" }, resume: true).Epochs.Select(r => r.Epoch));
    }

    [Fact]
    public void Resume_LongerCosineRun_IsRefused_ButAMultistepRunMayBeExtendedLikeAnUninterruptedOne()
    {
        // Extending a finished cosine run used to train the new epochs at rate 0: cosine's length is train.epochs.
        var cosine = Recipe("cosine", "cosine", 1);
        TrainingRun.Execute(cosine);
        var before = Hash(cosine.Output);
        var e = Assert.Throws<ConfigException>(() => TrainingRun.Execute(cosine with { Train = cosine.Train with { Epochs = 2 } }, resume: true));
        Assert.Contains("train.epochs is 1 in the checkpoint and 2 in the recipe, but the cosine schedule's rate at every epoch depends on train.epochs", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Hash(cosine.Output));

        // Multistep's rates depend on the milestones alone: 1 epoch, then extended to 2, ends as a straight 2-epoch run.
        var straight = Recipe("straight", "multistep", 2);
        TrainingRun.Execute(straight);
        var extended = straight with { Output = Path.Combine(_root, "extended") };
        TrainingRun.Execute(extended with { Train = extended.Train with { Epochs = 1 } });
        Assert.Equal([2], TrainingRun.Execute(extended, resume: true).Epochs.Select(r => r.Epoch));
        AssertSameModel(straight.Output, extended.Output);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(extended.Output, "log.jsonl")).Length);

        // ...but not shortened below what it has already done.
        var shorter = Assert.Throws<ConfigException>(() => TrainingRun.Execute(extended with { Train = extended.Train with { Epochs = 1 } }, resume: true));
        Assert.Contains("train.epochs is 2 in the checkpoint and 1 in the recipe, but the checkpoint has already completed epoch 2", shorter.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CrashBetweenLogAndCheckpoint_PartialLines_LeftoverTemporaries_AndADeadLock_ResumeToATruthfulFolder()
    {
        var straight = Recipe("straight", "cosine", 3);
        TrainingRun.Execute(straight);
        var run = straight with { Output = Path.Combine(_root, "crashed") };
        Assert.Throws<OperationCanceledException>(() => TrainingRun.Execute(run, onEpoch: r =>
        {
            if (r.Epoch == 2)
            {
                throw new OperationCanceledException();
            }
        }));

        // What a kill -9 during epoch 3's bookkeeping leaves: epoch 3 logged in all three logs but its checkpoint still a
        // temporary, a line cut short, a temporary of an earlier crash, and the dead process's lock.
        var folder = run.Output;
        string Epoch3(string log) => string.Concat(File.ReadAllLines(Path.Combine(straight.Output, log)).Where(l => l.StartsWith("{\"Epoch\":3,", StringComparison.Ordinal) || l.StartsWith("3,", StringComparison.Ordinal)).Select(l => l + "\n"));
        File.AppendAllText(Path.Combine(folder, "log.jsonl"), Epoch3("log.jsonl") + "{\"Epoch\":4,\"Learn");
        File.AppendAllText(Path.Combine(folder, "epochs.csv"), Epoch3("epochs.csv") + "4,0.0");
        File.AppendAllText(Path.Combine(folder, "steps.jsonl"), Epoch3("steps.jsonl") + "{\"Epoch\":4,");
        File.WriteAllBytes(Path.Combine(folder, $".last.safetensors.{DeadPid}.{Guid.NewGuid():N}.tmp"), new byte[1000]);
        File.WriteAllBytes(Path.Combine(folder, $".best.safetensors.{DeadPid}.{Guid.NewGuid():N}.tmp"), new byte[10]);
        File.WriteAllText(Path.Combine(folder, "run.lock"), JsonSerializer.Serialize(new { Pid = DeadPid, Host = Environment.MachineName, Started = DateTime.UtcNow }));

        var notices = new StringWriter();
        Assert.Equal([3], TrainingRun.Execute(run, resume: true, notices: notices).Epochs.Select(r => r.Epoch));
        Assert.Contains($"taking over the lock of pid {DeadPid} on host {Environment.MachineName}, which is no longer running", notices.ToString(), StringComparison.Ordinal);
        Assert.Contains("removed 2 temporary file(s) left by an interrupted write", notices.ToString(), StringComparison.Ordinal);
        Assert.Equal(["best.safetensors", "config.yaml", "epochs.csv", "last.safetensors", "log.jsonl", "report.html", "steps.jsonl"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var log = File.ReadAllLines(Path.Combine(folder, "log.jsonl")).Select(l => JsonSerializer.Deserialize<EpochResult>(l)!).ToArray();
        Assert.Equal([1, 2, 3], log.Select(r => r.Epoch));
        Assert.Equal([1, 2, 3], File.ReadAllLines(Path.Combine(folder, "epochs.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(RunFolder.CsvHeader, File.ReadLines(Path.Combine(folder, "epochs.csv")).First());
        var steps = File.ReadAllLines(Path.Combine(folder, "steps.jsonl")).Select(l => JsonSerializer.Deserialize<TrainingProgress>(l)!).Select(p => (p.Epoch, p.Step)).ToArray();
        Assert.Equal(File.ReadAllLines(Path.Combine(straight.Output, "steps.jsonl")).Length, steps.Length);
        Assert.Equal(steps.Length, steps.Distinct().Count());
        Assert.Equal(File.ReadAllLines(Path.Combine(straight.Output, "log.jsonl")).Select(l => JsonSerializer.Deserialize<EpochResult>(l)!.TestAccuracy), log.Select(r => r.TestAccuracy));
        System.Xml.Linq.XDocument.Load(Path.Combine(folder, "report.html"));
        AssertSameModel(straight.Output, folder);
    }

    [Fact]
    public void LiveLock_IsAnErrorNamingThePid_SoTwoRunsCannotWriteOneFolder()
    {
        var run = Recipe("live", "multistep", 2);
        ConfigException? second = null;
        string? during = null;
        TrainingRun.Execute(run, onEpoch: r =>
        {
            if (r.Epoch == 1)
            {
                during = Hash(run.Output);
                second = Assert.Throws<ConfigException>(() => TrainingRun.Execute(run, resume: true));
                Assert.Equal(during, Hash(run.Output));
            }
        });
        Assert.NotNull(second);
        Assert.Contains($"{run.Output} is in use by another run: pid {Environment.ProcessId} on host {Environment.MachineName}", second!.Message, StringComparison.Ordinal);
        Assert.Contains("run.lock ", during!, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run.Output, "run.lock")), "the lock outlived its run");

        // A lock file whose pid was reused by a later process is stale too.
        using var self = Process.GetCurrentProcess();
        File.WriteAllText(Path.Combine(run.Output, "run.lock"), JsonSerializer.Serialize(new { Pid = Environment.ProcessId, Host = Environment.MachineName, Started = self.StartTime.ToUniversalTime().AddHours(-1) }));
        var notices = new StringWriter();
        TrainingRun.Execute(run, resume: true, notices: notices);
        Assert.Contains($"taking over the lock of pid {Environment.ProcessId}", notices.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AtomicWrite_FailingMidway_LeavesNoTemporaryAndTheOldFile()
    {
        var path = Path.Combine(_root, "last.safetensors");
        File.WriteAllText(path, "old");
        Assert.Throws<IOException>(() => SafeTensors.WriteAtomically(path, s =>
        {
            s.Write(new byte[4096]);
            throw new IOException("No space left on device");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(_root, "*.tmp"));
    }

    [Fact]
    public void RecipeDiff_FillsMethodDefaults_AndIgnoresWhatTheRunDoesNotRead()
    {
        var kd = Recipes.Parse("""
            student:
              model: resnet8
            teacher:
              model: resnet8
              checkpoint: t.safetensors
            method:
              name: kd
            train:
              epochs: 4
              schedule: cosine
            """);
        var temperature = MethodDefault("kd", "temperature");
        var explicitDefault = kd with { Method = kd.Method with { Options = new Dictionary<string, object> { ["temperature"] = temperature } } };
        Assert.Empty(RecipeDiff.Differences(kd, explicitDefault, 2));
        Assert.Empty(RecipeDiff.Differences(kd, kd with { Output = "elsewhere", Train = kd.Train with { Milestones = [1] } }, 2));
        var hotter = kd with { Method = kd.Method with { Options = new Dictionary<string, object> { ["temperature"] = 8.0 } }, Teacher = kd.Teacher! with { Checkpoint = "u.safetensors" } };
        Assert.Equal(
            [
                $"teacher.checkpoint is \"t.safetensors\" in the checkpoint and \"u.safetensors\" in the recipe",
                $"method.temperature is {MethodOption(temperature)} in the checkpoint and 8 in the recipe",
            ],
            RecipeDiff.Differences(kd, hotter, 2));

        // A teacher the method does not read is no difference.
        var alone = kd with { Method = new MethodConfig() };
        Assert.Empty(RecipeDiff.Differences(alone, alone with { Teacher = null }, 2));
    }

    private static object MethodDefault(string method, string key) => Distill.Methods.MethodFactory.Find(method)!.Options.Single(o => o.Key == key).Default;

    private static string MethodOption(object value) => Distill.Methods.MethodOption.Format(value);

    private RunConfig Recipe(string name, string schedule, int epochs) => Recipes.Parse(TinyIdx.Recipe(_root, $"""
        train:
          epochs: {epochs}
          lr: 0.05
          schedule: {schedule}
          milestones: [2]
          seed: 3
        output: {Path.Combine(_root, name)}
        """));

    private static void AssertSameModel(string expected, string actual)
    {
        using var scope = DisposeScope.Enter();
        using var a = SafeTensors.Load(Path.Combine(expected, "last.safetensors"));
        using var b = SafeTensors.Load(Path.Combine(actual, "last.safetensors"));
        foreach (var (key, value) in a.Tensors.Where(t => !t.Key.StartsWith("rng", StringComparison.Ordinal)))
        {
            Assert.True(value.ToBytes().SequenceEqual(b.Tensors[key].ToBytes()), $"{key} differs");
        }
    }

    /// <summary>Every file's relative path and bytes: a folder whose hash is unchanged has had nothing added, removed or rewritten.</summary>
    private static string Hash(string folder)
    {
        var listing = new StringBuilder();
        foreach (var path in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            listing.Append(Path.GetRelativePath(folder, path)).Append(' ').Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))).Append('\n');
        }

        return listing.ToString();
    }
}
