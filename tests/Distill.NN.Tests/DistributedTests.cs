using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Distill.Torch.Distributed;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.NN.Tests;

/// <summary>
/// The Gloo process group and SyncBatchNorm with real processes: the DistributedWorker helper is started once per
/// rank on 127.0.0.1 with a free port and one intra-op thread, runs a scenario and saves its results.
/// </summary>
public sealed class DistributedTests : IDisposable
{
    private const int WorldSize = 2;
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-ddp-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [DataParallelFact]
    public void Collectives_TwoRanks_AllReduceBroadcastAllGatherAndBarrierGiveEveryRankTheCombinedValues()
    {
        var runs = RunRanks("collectives");
        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, run.Describe());
        }

        for (var r = 0; r < WorldSize; r++)
        {
            using var file = SafeTensors.Load(Path.Combine(_directory, $"rank{r}.safetensors"));
            var t = file.Tensors;
            // Rank r holds (r + 1) * [0..5]: the sum is 3 * [0..5], the average 1.5 * [0..5].
            Assert.Equal([0f, 3, 6, 9, 12, 15], t["sum"].ToArray<float>());
            Assert.Equal([3L, 3, 3, 3], t["counts"].ToArray<long>());
            Assert.Equal([0f, 1.5f, 3, 4.5f, 6, 7.5f], t["average"].ToArray<float>());
            Assert.Equal([5f, 5, 5], t["max"].ToArray<float>());
            Assert.Equal([-1f, -1, -1], t["min"].ToArray<float>());
            // Broadcast from the last rank (10 r + 5, 10 r + 6 with r = 1).
            Assert.Equal([15f, 15, 15, 15], t["broadcast"].ToArray<float>());
            Assert.Equal([16.0, 16, 16], t["broadcast2"].ToArray<double>());
            Assert.Equal([100f, 100], t["gathered0"].ToArray<float>());
            Assert.Equal([101f, 101], t["gathered1"].ToArray<float>());
        }
    }

    [DataParallelFact]
    public void RankThatExitsEarly_MakesTheOtherRankFailWithinTheTimeoutNamingTheCollectiveAndRank()
    {
        var watch = Stopwatch.StartNew();
        var runs = RunRanks("exit-early", timeoutSeconds: 5);
        watch.Stop();
        Assert.True(runs[1].ExitCode == 0, runs[1].Describe());
        Assert.True(runs[0].ExitCode == 3, runs[0].Describe());
        Assert.Contains("all_reduce (rank 0 of 2)", runs[0].Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", runs[0].Error, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
    }

    [DataParallelFact]
    public void RankThatStopsResponding_MakesTheOtherRankTimeOutInsteadOfHanging()
    {
        var watch = Stopwatch.StartNew();
        var runs = RunRanks("stall", timeoutSeconds: 3);
        Assert.True(runs[0].ExitCode == 3, runs[0].Describe());
        Assert.Contains("all_reduce (rank 0 of 2)", runs[0].Error, StringComparison.Ordinal);
        Assert.Contains("Timed out", runs[0].Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
    }

    [DataParallelFact]
    public void SyncBatchNorm_TwoRanksWithUnequalSharesOfABatch_MatchBatchNormOnTheWholeBatch()
    {
        var runs = RunRanks("syncbn");
        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, run.Describe());
        }

        var files = Enumerable.Range(0, WorldSize).Select(r => SafeTensors.Load(Path.Combine(_directory, $"rank{r}.safetensors"))).ToArray();
        try
        {
            using var scope = DisposeScope.Enter();
            var (batch, channels) = (6L, 3L);
            var perChannel = batch * 4 * 5;
            // Statistics: one reduction over the batch; gradients: the forward's and the backward's reductions.
            var forward = GoldenTolerance.Float32Chain([perChannel], "batch statistics over 120 values per channel");
            var backward = GoldenTolerance.Float32Chain([perChannel, perChannel], "statistics, then the backward's per-channel sums");
            using var bn = new BatchNorm2d(channels, momentum: 0.3);
            using (Autograd.NoGrad())
            {
                bn.Weight!.CopyFrom(Tensor.From(new[] { 0.5f, 1.5f, -2.0f }, 3));
                bn.Bias!.CopyFrom(Tensor.From(new[] { 0.1f, -0.2f, 0.3f }, 3));
            }

            for (var step = 0; step < 2; step++)
            {
                using var generator = new Generator(100 + (ulong)step);
                var x = ((Tensor.Randn([batch, channels, 4, 5], generator: generator) * 3.0) + 2.0).RequireGrad();
                var g = Tensor.Randn([batch, channels, 4, 5], generator: generator);
                bn.ZeroGrad();
                var y = bn.Forward(x);
                (y * g).Sum().Backward();
                AssertClose(y, Tensor.Cat([files[0].Tensors[$"y{step}"], files[1].Tensors[$"y{step}"]]), forward, $"output, step {step}");
                AssertClose(x.Grad!, Tensor.Cat([files[0].Tensors[$"grad_x{step}"], files[1].Tensors[$"grad_x{step}"]]), backward, $"input gradient, step {step}");
                foreach (var file in files)
                {
                    AssertClose(bn.Weight!.Grad!, file.Tensors[$"grad_weight{step}"], backward, $"weight gradient, step {step}");
                    AssertClose(bn.Bias!.Grad!, file.Tensors[$"grad_bias{step}"], backward, $"bias gradient, step {step}");
                }
            }

            bn.Eval();
            using var evalGenerator = new Generator(200);
            var eval = bn.Forward(Tensor.Randn([2, channels, 4, 5], generator: evalGenerator));
            foreach (var file in files)
            {
                AssertClose(bn.RunningMean!, file.Tensors["running_mean"], forward, "running mean");
                AssertClose(bn.RunningVar!, file.Tensors["running_var"], forward, "running variance");
                AssertClose(eval, file.Tensors["eval"], forward, "eval output");
            }
        }
        finally
        {
            foreach (var file in files)
            {
                file.Dispose();
            }
        }
    }

    [DataParallelFact]
    public void TrainersDataParallelEngine_TwoRanks_MatchesPyTorchDistributedDataParallelAfterFourSgdSteps()
    {
        // eng/golden/ddp_training.py: a conv net with plain BatchNorm trained by PyTorch DDP (Gloo, 2 CPU processes).
        File.Copy(FixtureFiles.PathOf("ddp_training.safetensors"), Path.Combine(_directory, "ddp_training.safetensors"));
        var runs = RunRanks("ddp-training");
        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, run.Describe());
        }

        using var golden = SafeTensors.Load(Path.Combine(_directory, "ddp_training.safetensors"));
        var expected = golden.Tensors.Where(p => p.Key.StartsWith("final.", StringComparison.Ordinal)).ToDictionary(p => p.Key["final.".Length..], p => p.Value);
        // Per step: the forward's reductions (conv fan-in 27, BatchNorm over 4 x 6 x 6 = 144 values per channel, the
        // 6 x 6 average pool, the linear layer's fan-in 4), the backward's same reductions and the two-rank sum,
        // over 4 steps whose rounding the weights carry on. SGD with momentum 0.9 and lr 0.1 moves a weight by at
        // most 0.1 x (1 + 1.9 + 2.71 + 3.44) < 1 gradient per error, so the gradients' error reaches the weights
        // with a gain below one. A gradient not averaged (or summed) moves weights by a sizeable fraction of their RMS.
        long[] step = [27, 144, 36, 4, 4, 36, 144, 27, 2];
        var tolerance = GoldenTolerance.Float32Chain(Enumerable.Repeat(step, 4).SelectMany(s => s), "4 SGD steps of a conv net, forward, backward and all-reduce");
        for (var r = 0; r < WorldSize; r++)
        {
            using var file = SafeTensors.Load(Path.Combine(_directory, $"rank{r}.safetensors"));
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), file.Tensors.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, value) in expected)
            {
                if (value.DType == DType.Int64)
                {
                    Assert.Equal(value.ToArray<long>(), file.Tensors[name].ToArray<long>());
                    continue;
                }

                // Running statistics are rank 0's (broadcast before evaluation and saving; DDP copies them before each forward).
                AssertClose(value, file.Tensors[name], tolerance, $"rank {r} {name}");
            }
        }
    }

    [DataParallelFact]
    public void SyncBatchNorm_OneRankGroup_GivesBatchNormOutputsRunningStatsAndGradients()
    {
        using var group = ProcessGroup.Create("127.0.0.1", FreePort(), 0, 1, TimeSpan.FromSeconds(20));
        using var scope = DisposeScope.Enter();
        using var generator = new Generator(7);
        var x = ((Tensor.Randn([4, 3, 5, 6], generator: generator) * 2.0) - 1.0).RequireGrad();
        var x2 = x.Detach().Clone().RequireGrad();
        var g = Tensor.Randn([4, 3, 5, 6], generator: generator);
        var weight = Tensor.From(new[] { 0.5f, 1.5f, -2.0f }, 3).RequireGrad();
        var bias = Tensor.From(new[] { 0.1f, -0.2f, 0.3f }, 3).RequireGrad();
        var weight2 = weight.Detach().Clone().RequireGrad();
        var bias2 = bias.Detach().Clone().RequireGrad();
        var (mean, runVar) = (Tensor.Zeros([3]), Tensor.Ones([3]));
        var (mean2, runVar2) = (Tensor.Zeros([3]), Tensor.Ones([3]));
        var expected = F.BatchNorm(x, mean, runVar, weight, bias, training: true, momentum: 0.2);
        (expected * g).Sum().Backward();
        var actual = F.SyncBatchNorm(x2, group, mean2, runVar2, weight2, bias2, momentum: 0.2);
        (actual * g).Sum().Backward();
        var forward = GoldenTolerance.Float32Chain([4 * 5 * 6], "batch statistics over 120 values per channel");
        var backward = GoldenTolerance.Float32Chain([4 * 5 * 6, 4 * 5 * 6], "statistics, then the backward's per-channel sums");
        AssertClose(expected, actual, forward, "output");
        AssertClose(mean, mean2, forward, "running mean");
        AssertClose(runVar, runVar2, forward, "running variance");
        AssertClose(x.Grad!, x2.Grad!, backward, "input gradient");
        AssertClose(weight.Grad!, weight2.Grad!, backward, "weight gradient");
        AssertClose(bias.Grad!, bias2.Grad!, backward, "bias gradient");
    }

    [DataParallelFact]
    public void Rendezvous_WithNoServer_FailsWithinTheTimeoutNamingTheAddress()
    {
        var port = FreePort();
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<TorchException>(() => ProcessGroup.Create("127.0.0.1", port, 1, 2, TimeSpan.FromSeconds(1)));
        Assert.Contains($"TCPStore rendezvous at 127.0.0.1:{port} (client)", e.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Convert_AttachesTheGroupToEveryBatchNormInPlace_KeepingStateDictKeys()
    {
        using var model = new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4), new ReLU(), new Sequential(new BatchNorm2d(4)));
        var keys = model.StateDict().Keys.ToArray();
        using var group = new FakeGroup();
        Assert.Equal(2, SyncBatchNorm.Convert(model, group));
        Assert.All(model.NamedModules().Select(m => m.Module).OfType<BatchNorm>(), bn => Assert.Same(group, bn.ProcessGroup));
        Assert.Equal(keys, model.StateDict().Keys.ToArray());
    }

    [Fact]
    public void SyncBatchNorm_HasBatchNormStateDictKeys()
    {
        using var sync = new SyncBatchNorm(5);
        using var plain = new BatchNorm2d(5);
        Assert.Equal(plain.StateDict().Keys.ToArray(), sync.StateDict().Keys.ToArray());
    }

    [Fact]
    public void SyncBatchNorm_InEvalOrWithoutGroup_EqualsBatchNorm2d()
    {
        using var scope = DisposeScope.Enter();
        using var generator = new Generator(3);
        var x = Tensor.Randn([4, 2, 3, 3], generator: generator);
        using var sync = new SyncBatchNorm(2, new FakeGroup());
        using var plain = new BatchNorm2d(2);
        // A one-rank group trains as plain batch norm (the fake would throw if called).
        using var single = new SyncBatchNorm(2, new FakeGroup(worldSize: 1));
        Assert.Equal(plain.Forward(x).ToArray<float>(), single.Forward(x).ToArray<float>());
        Assert.Equal(plain.RunningVar!.ToArray<float>(), single.RunningVar!.ToArray<float>());
        using var fresh = new BatchNorm2d(2);
        sync.Eval();
        fresh.Eval();
        Assert.Equal(fresh.Forward(x).ToArray<float>(), sync.Forward(x).ToArray<float>());
    }

    [Fact]
    public void SyncBatchNorm_TrainingWithANonNativeGroup_SaysWhichGroupItNeeds()
    {
        using var scope = DisposeScope.Enter();
        using var sync = new SyncBatchNorm(2, new FakeGroup());
        var e = Assert.Throws<NotSupportedException>(() => sync.Forward(Tensor.Ones([2, 2, 2, 2])));
        Assert.Contains("Distill.Torch.Distributed.ProcessGroup", e.Message, StringComparison.Ordinal);
    }

    private static void AssertClose(Tensor expected, Tensor actual, GoldenTolerance tolerance, string what)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        var e = expected.Detach().To(DType.Float64).ToArray<double>();
        var a = actual.Detach().To(DType.Float64).ToArray<double>();
        var rms = GoldenTolerance.Rms(e);
        for (var i = 0; i < e.Length; i++)
        {
            Assert.True(tolerance.Accepts(a[i], e[i], rms), $"{what}[{i}]: expected {e[i]}, got {a[i]} (allowed {tolerance.Allowed(e[i], rms):g3}; {tolerance.Reason})");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string WorkerPath()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = baseDir.Name;
        var configuration = baseDir.Parent!.Name;
        var tests = baseDir.Parent!.Parent!.Parent!.Parent!.FullName;
        var worker = Path.Combine(tests, "Tools", "DistributedWorker", "bin", configuration, tfm, "DistributedWorker.dll");
        Assert.True(File.Exists(worker), $"worker not built: {worker}");
        return worker;
    }

    private RankRun[] RunRanks(string scenario, int timeoutSeconds = 20)
    {
        var port = FreePort();
        var worker = WorkerPath();
        var processes = new Process[WorldSize];
        var outputs = new Task<string>[WorldSize];
        var errors = new Task<string>[WorldSize];
        try
        {
            for (var r = 0; r < WorldSize; r++)
            {
                var start = new ProcessStartInfo("dotnet")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (var arg in new[] { worker, scenario, _directory, timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                {
                    start.ArgumentList.Add(arg);
                }

                start.Environment["RANK"] = r.ToString(System.Globalization.CultureInfo.InvariantCulture);
                start.Environment["WORLD_SIZE"] = WorldSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
                start.Environment["MASTER_ADDR"] = "127.0.0.1";
                start.Environment["MASTER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                start.Environment["OMP_NUM_THREADS"] = "1";
                processes[r] = Process.Start(start)!;
                outputs[r] = processes[r].StandardOutput.ReadToEndAsync();
                errors[r] = processes[r].StandardError.ReadToEndAsync();
            }

            // Generous (process start-up on a busy machine plus several of the ranks' own timeouts): this only
            // guards the test run against a hang.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30 + (timeoutSeconds * 5));
            foreach (var p in processes)
            {
                var left = deadline - DateTime.UtcNow;
                Assert.True(p.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero), $"rank {Array.IndexOf(processes, p)} hung past the deadline");
            }

            return processes.Select((p, r) => new RankRun(r, p.ExitCode, outputs[r].Result, errors[r].Result)).ToArray();
        }
        finally
        {
            foreach (var p in processes)
            {
                if (p is { HasExited: false })
                {
                    p.Kill(entireProcessTree: true);
                }

                p?.Dispose();
            }
        }
    }

    private sealed record RankRun(int Rank, int ExitCode, string Output, string Error)
    {
        public string Describe() => $"rank {Rank} exited with {ExitCode}\nstdout: {Output}\nstderr: {Error}";
    }

    private sealed class FakeGroup(int worldSize = 2) : IProcessGroup
    {
        public int Rank => 0;

        public int WorldSize { get; } = worldSize;

        public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum) => throw new InvalidOperationException("not a real group");

        public void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0) => throw new InvalidOperationException("not a real group");

        public Tensor[] AllGather(Tensor tensor) => throw new InvalidOperationException("not a real group");

        public void Barrier() => throw new InvalidOperationException("not a real group");

        public void Dispose()
        {
        }
    }
}
