using System.Diagnostics;
using System.Globalization;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// `distill train --nproc 2` with real worker processes (c10d Gloo on 127.0.0.1, one intra-op thread each): the same
/// weights as one process with the same global batch, and a rank killed or stopped mid-run.
/// </summary>
public sealed class DataParallelProcessTests : IDisposable
{
    /// <summary>Global batch 16 of 64 images: 4 optimizer steps in the one epoch, 8 images per rank per step.</summary>
    private const int TrainImages = 64;

    private const int Steps = TrainImages / 16;

    private static readonly Dictionary<string, string> OneThread = new() { ["OMP_NUM_THREADS"] = "1", [DataParallelEnvironment.TimeoutVariable] = "60" };

    private readonly string _root = Directory.CreateTempSubdirectory("distill-ddp-proc-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [DataParallelFact]
    public async Task TwoProcesses_PlainTrainingWithSyncBn_GiveTheWeightsOfOneProcessWithTheGlobalBatch()
    {
        TinyIdx.Write(_root, TrainImages, 16);
        await AssertSameWeights(Recipe("plain", "method:\n  name: none\n"));
    }

    [DataParallelFact]
    public async Task TwoProcesses_KdWithSyncBn_GiveTheWeightsOfOneProcessWithTheGlobalBatch()
    {
        TinyIdx.Write(_root, TrainImages, 16);
        var teacher = await CliProcess.RunWith(OneThread, "teacher", "--config", Recipe("teacher", string.Empty), "--set", "student.model=resnet14");
        Assert.True(teacher.Exit == 0, teacher.Stderr);
        var checkpoint = Path.Combine(_root, "teacher-2", "best.safetensors");
        await AssertSameWeights(Recipe("kd", $"method:\n  name: kd\n  temperature: 4\nteacher:\n  model: resnet14\n  checkpoint: {checkpoint}\n"));
    }

    [DataParallelFact]
    public async Task RankKilledMidRun_EveryProcessStops_TheLauncherNamesTheRank_NoOrphans_AndResumeFinishes()
    {
        // 4 epochs of 16 steps; rank 1 is killed as soon as epoch 1's checkpoint exists.
        TinyIdx.Write(_root, 256, 16);
        var recipe = Recipe("killed", "method:\n  name: none\n", epochs: 4);
        var output = Path.Combine(_root, "killed-2");
        var run = await Launch(recipe, waitFor: Path.Combine(output, "last.safetensors"), signal: "KILL");
        Assert.True(run.Exit != 0, run.Stderr);
        Assert.Contains("error: rank 1 exited first with code 137 (killed by signal 9)", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.True(run.AfterSignal < TimeSpan.FromSeconds(30), $"took {run.AfterSignal} after the kill");
        Assert.Empty(run.Orphans);
        var epochs = File.ReadAllLines(Path.Combine(output, "log.jsonl")).Length;
        Assert.InRange(epochs, 1, 3);

        var resumed = await CliProcess.RunWith(OneThread, "train", "--config", recipe, "--nproc", "2", "--resume");
        Assert.True(resumed.Exit == 0, resumed.Stderr);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(output, "log.jsonl")).Length);
    }

    [DataParallelFact]
    public async Task RankThatStopsResponding_MakesTheOthersFailAfterDistillDistTimeout_AndTheLauncherStopsIt()
    {
        TinyIdx.Write(_root, 256, 16);
        var recipe = Recipe("stopped", "method:\n  name: none\n", epochs: 4);
        var run = await Launch(recipe, waitFor: Path.Combine(_root, "stopped-2", "last.safetensors"), signal: "STOP", timeoutSeconds: 3);
        Assert.True(run.Exit != 0, run.Stderr);
        // Rank 0 gives up after DISTILL_DIST_TIMEOUT (3 s, not PyTorch's 30 minutes) and names its collective.
        Assert.Contains("Timed out", run.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("error: rank 0 exited first", run.Stderr, StringComparison.Ordinal);
        Assert.InRange(run.AfterSignal, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(30));
        Assert.Empty(run.Orphans);
    }

    [Fact]
    public void DistillDistTimeout_IsReadInSeconds_AndABadValueNamesTheVariable()
    {
        Assert.Null(DataParallelEnvironment.ReadTimeout(_ => null));
        Assert.Equal(TimeSpan.FromSeconds(2.5), DataParallelEnvironment.ReadTimeout(n => n == "DISTILL_DIST_TIMEOUT" ? "2.5" : null));
        var env = new Dictionary<string, string> { ["RANK"] = "0", ["WORLD_SIZE"] = "2", ["MASTER_ADDR"] = "127.0.0.1", ["MASTER_PORT"] = "29500", ["DISTILL_DIST_TIMEOUT"] = "12" };
        Assert.Equal(TimeSpan.FromSeconds(12), DataParallelEnvironment.Read(env.GetValueOrDefault)!.Timeout);
        foreach (var bad in new[] { "0", "-1", "ten", "inf" })
        {
            var error = Assert.Throws<Configs.ConfigException>(() => DataParallelEnvironment.ReadTimeout(n => n == "DISTILL_DIST_TIMEOUT" ? bad : null)).Message;
            Assert.Contains($"DISTILL_DIST_TIMEOUT='{bad}' is not a number of seconds above 0", error, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A recipe (written to a file) training resnet8 with BatchNorm synchronised, on the tiny IDX set, for
    /// <paramref name="epochs"/> epochs; its output folder is "name-N" for N processes (given by --set).
    /// </summary>
    private string Recipe(string name, string rest, int epochs = 1)
    {
        var path = Path.Combine(_root, $"{name}.yaml");
        File.WriteAllText(path, TinyIdx.Recipe(_root, $"train:\n  epochs: {epochs}\n  lr: 0.05\n  seed: 5\n  sync_bn: true\noutput: {Path.Combine(_root, name + "-2")}\n{rest}"));
        return path;
    }

    /// <summary>
    /// Trains the recipe in one process and in two (global batch 16 both times) and compares the final weights and
    /// running statistics (best.safetensors after the one epoch).
    /// </summary>
    private async Task AssertSameWeights(string recipe)
    {
        var two = await CliProcess.RunWith(OneThread, "train", "--config", recipe, "--nproc", "2");
        Assert.True(two.Exit == 0, two.Stderr);
        var oneFolder = Path.GetFileNameWithoutExtension(recipe) + "-1";
        var one = await CliProcess.RunWith(OneThread, "train", "--config", recipe, "--set", $"output={Path.Combine(_root, oneFolder)}");
        Assert.True(one.Exit == 0, one.Stderr);
        using var expected = SafeTensors.Load(Path.Combine(_root, oneFolder, "best.safetensors"));
        using var actual = SafeTensors.Load(Path.Combine(_root, Path.GetFileNameWithoutExtension(recipe) + "-2", "best.safetensors"));
        Assert.Equal(expected.Tensors.Keys.Order(StringComparer.Ordinal), actual.Tensors.Keys.Order(StringComparer.Ordinal));
        var tolerance = Tolerance(expected.Tensors);
        foreach (var (name, value) in expected.Tensors)
        {
            if (!value.DType.IsFloatingPoint())
            {
                Assert.Equal(value.To(DType.Int64).ToArray<long>(), actual.Tensors[name].To(DType.Int64).ToArray<long>());
                continue;
            }

            var e = value.To(DType.Float64).ToArray<double>();
            var a = actual.Tensors[name].To(DType.Float64).ToArray<double>();
            var rms = GoldenTolerance.Rms(e);
            for (var i = 0; i < e.Length; i++)
            {
                Assert.True(tolerance.Accepts(a[i], e[i], rms), $"{name}[{i}]: one process {e[i]}, two {a[i]} (allowed {tolerance.Allowed(e[i], rms):g3}; {tolerance.Reason})");
            }
        }
    }

    /// <summary>
    /// Summation order is all that differs (two ranks each sum half of every batch reduction, then the all-reduce adds
    /// the halves): per step, every layer's reduction in the forward and again in the backward, a convolution's over
    /// its fan-in and a batch norm's over at most 16 x 12 x 12 values per channel (the whole global batch at full
    /// resolution), for the <see cref="Steps"/> steps whose rounding the weights carry on; a step moves weights by lr
    /// 0.05 times a momentum sum below 4 gradients, a gain below one.
    /// </summary>
    private static GoldenTolerance Tolerance(IReadOnlyDictionary<string, Tensor> state)
    {
        var lengths = new List<long>();
        foreach (var (name, value) in state)
        {
            if (name.EndsWith("weight", StringComparison.Ordinal) && value.Shape.Length >= 2)
            {
                lengths.Add(value.Shape.ToArray().Skip(1).Aggregate(1L, (x, y) => x * y));
            }
            else if (name.EndsWith("running_mean", StringComparison.Ordinal))
            {
                lengths.Add(16 * 12 * 12);
            }
        }

        return GoldenTolerance.Float32Chain(Enumerable.Repeat(lengths.Concat(lengths), Steps).SelectMany(l => l), $"{Steps} steps of forward and backward, resnet8");
    }

    /// <summary>
    /// Starts `distill train --nproc 2`, waits for <paramref name="waitFor"/> to exist, sends <paramref name="signal"/>
    /// to rank 1 (found by its launcher's pid and RANK in /proc), and waits for the launcher to end.
    /// </summary>
    private static async Task<LaunchResult> Launch(string recipe, string waitFor, string signal, int timeoutSeconds = 60)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment[DataParallelEnvironment.TimeoutVariable] = timeoutSeconds.ToString(CultureInfo.InvariantCulture);
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Distill.Cli.dll"), "train", "--config", recipe, "--nproc", "2" })
        {
            start.ArgumentList.Add(a);
        }

        using var launcher = Process.Start(start)!;
        var stdout = launcher.StandardOutput.ReadToEndAsync();
        var stderr = launcher.StandardError.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (!File.Exists(waitFor))
            {
                if (launcher.HasExited)
                {
                    Assert.Fail($"the run ended before {waitFor} existed: {await stderr}");
                }

                Assert.True(DateTime.UtcNow < deadline, $"{waitFor} did not appear");
                await Task.Delay(20);
            }

            var workers = Workers(launcher.Id);
            if (workers.Count(w => w.Rank == 1) != 1)
            {
                var listing = Describe();
                launcher.WaitForExit(TimeSpan.FromSeconds(30));
                Assert.Fail($"rank 1 of launcher {launcher.Id} not found among [{string.Join(", ", workers)}] (exited {launcher.HasExited}): {listing}");
            }

            var rank1 = workers.Single(w => w.Rank == 1).Pid;
            using (var kill = Process.Start("kill", ["-" + signal, rank1.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            var clock = Stopwatch.StartNew();
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await launcher.WaitForExitAsync(guard.Token);
            clock.Stop();
            await Task.Delay(200);
            return new LaunchResult(launcher.ExitCode, await stdout + await stderr, clock.Elapsed, Workers(launcher.Id).Select(w => w.Pid).ToArray());
        }
        finally
        {
            foreach (var (pid, _) in Workers(launcher.Id))
            {
                using var leftover = Process.GetProcessById(pid);
                leftover.Kill();
            }

            if (!launcher.HasExited)
            {
                launcher.Kill(entireProcessTree: true);
            }
        }
    }

    private static string Describe()
    {
        using var ps = Process.Start(new ProcessStartInfo("ps", ["eww", "-e", "-o", "pid=,ppid=,stat=,args="]) { RedirectStandardOutput = true })!;
        return string.Join("\n", ps.StandardOutput.ReadToEnd().Split('\n').Where(l => l.Contains("Distill.Cli", StringComparison.Ordinal)).Select(l => string.Join(' ', l.Split(' ').Where(w => !w.Contains('=', StringComparison.Ordinal) || w.Contains("RANK", StringComparison.Ordinal) || w.Contains("DISTILL", StringComparison.Ordinal)))));
    }

    /// <summary>
    /// The live workers of the launcher <paramref name="launcherPid"/>: their pid and RANK, from `ps` with the
    /// environment shown (each worker's has DISTILL_LAUNCHER_PID, as the launcher sets it).
    /// </summary>
    private static List<(int Pid, int Rank)> Workers(int launcherPid)
    {
        using var ps = Process.Start(new ProcessStartInfo("ps", ["eww", "-e", "-o", "pid=,stat=,args="]) { RedirectStandardOutput = true })!;
        var found = new List<(int, int)>();
        foreach (var line in ps.StandardOutput.ReadToEnd().Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 2 && !fields[1].StartsWith('Z') && fields.Contains($"DISTILL_LAUNCHER_PID={launcherPid}")
                && fields.FirstOrDefault(f => f.StartsWith("RANK=", StringComparison.Ordinal)) is { } rank)
            {
                found.Add((int.Parse(fields[0], CultureInfo.InvariantCulture), int.Parse(rank["RANK=".Length..], CultureInfo.InvariantCulture)));
            }
        }

        ps.WaitForExit();
        return found;
    }

    private sealed record LaunchResult(int Exit, string Stderr, TimeSpan AfterSignal, int[] Orphans);
}
