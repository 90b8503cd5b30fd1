using System.Diagnostics;
using System.Text.Json;
using Distill.NN.Checkpoints;
using Distill.NN.Optim;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void StateDictWrittenByPyTorch_LoadsStrictly_AndGivesPyTorchsOutput()
    {
        using var scope = DisposeScope.Enter();
        using var net = new SmallNet();
        using var file = SafeTensors.Load(NnFixture.FixturePath("pytorch_small_net.safetensors"));
        var result = net.LoadStateDict(file.Tensors);
        Assert.True(result.IsExact, result.ToString());
        net.Eval();
        var golden = NnFixture.Root.GetProperty("small_net");
        // A conv and a linear layer in float32, recorded on another CPU: the network's depth tolerance.
        var tolerance = GoldenTolerance.ForNetwork(file.Tensors.Select(t => (t.Key, t.Value.Shape)).ToList(), "small net");
        GoldenTensor.Parse(golden.GetProperty("output")).AssertMatches(net.Forward(GoldenTensor.Parse(golden.GetProperty("input")).ToTensor()), "small net output", tolerance);
    }

    [Fact]
    public void FileWrittenByDistill_ReadsBackInPython_WithTheSameValuesKeysAndMetadata()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(11);
        using var net = new SmallNet();
        var path = Path.Combine(_directory, "net.safetensors");
        var state = net.StateDict();
        state["half"] = Tensor.From([1.5f, -2f]).To(DType.BFloat16);
        SafeTensors.Save(path, state, new Dictionary<string, string> { ["note"] = "from C#" });

        var script = Path.Combine(AppContext.BaseDirectory, "Scripts", "read_back.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var python = Process.Start(psi)!;
        var stdout = python.StandardOutput.ReadToEnd();
        var stderr = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var tensors = json.RootElement.GetProperty("tensors");
        Assert.Equal(state.Keys.Order(StringComparer.Ordinal), tensors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var (key, value) in state)
        {
            var read = GoldenTensor.Parse(tensors.GetProperty(key));
            if (value.DType == DType.BFloat16)
            {
                Assert.Equal("bfloat16", read.DTypeName);
                Assert.Equal([1.5, -2.0], read.Values);
                continue;
            }

            read.AssertMatches(value, $"python read of {key}");
        }

        var metadata = json.RootElement.GetProperty("metadata");
        Assert.Equal("from C#", metadata.GetProperty("note").GetString());
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
    }

    [Fact]
    public void LoadStateDict_ReportsMissingUnexpectedAndMismatchedKeys_AndLoadsNothing()
    {
        using var scope = DisposeScope.Enter();
        using var net = new SmallNet();
        var before = net.StateDict()["classifier.weight"].Clone();
        var state = net.StateDict().ToDictionary(p => p.Key, p => p.Value.Clone());
        state.Remove("features.1.running_var");
        state["extra.weight"] = Tensor.Zeros([1]);
        state["classifier.weight"] = Tensor.Zeros([10, 3]);
        var e = Assert.Throws<StateDictMismatchException>(() => net.LoadStateDict(state));
        Assert.Contains("missing keys (1): features.1.running_var", e.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected keys (1): extra.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("shape mismatches (1): classifier.weight: checkpoint [10, 3], model [10, 64]", e.Message, StringComparison.Ordinal);
        Assert.Equal(before.ToArray<float>(), net.StateDict()["classifier.weight"].ToArray<float>());
    }

    [Fact]
    public void NonStrictLoad_ReportsMissingAndUnexpected_ButLoadsTheRest()
    {
        using var scope = DisposeScope.Enter();
        using var net = new SmallNet();
        var state = new Dictionary<string, Tensor> { ["classifier.bias"] = Tensor.Ones([10]), ["other"] = Tensor.Zeros([1]) };
        var result = net.LoadStateDict(state, strict: false);
        Assert.Contains("classifier.weight", result.MissingKeys);
        Assert.Equal(["other"], result.UnexpectedKeys);
        Assert.All(net.StateDict()["classifier.bias"].ToArray<float>(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void TruncatedFile_IsRejected_NamingFileTensorAndOffsets()
    {
        var path = WriteSample();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated: tensor 'b'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"the file ends at byte {bytes.Length - 10}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FlippedDataByte_IsDetectedByTheChecksum_NamingTheTensor()
    {
        var path = WriteSample();
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains("tensor 'b'", e.Message, StringComparison.Ordinal);
        Assert.Contains("is corrupt: checksum", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4, "less than the 8-byte header length")]
    [InlineData(20, "the header length at byte 0 says")]
    public void ShortOrForeignFile_IsRejectedWithTheReason(int length, string reason)
    {
        var path = Path.Combine(_directory, "junk.safetensors");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0x7f, length).ToArray());
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CorruptHeader_IsRejectedWithAByteOffset()
    {
        var path = WriteSample();
        var bytes = File.ReadAllBytes(path);
        bytes[8] = (byte)'x';
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains("the JSON header is corrupt near byte 8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FailedWrite_LeavesThePreviousFileIntact_AndNoTemporaryFile()
    {
        var path = WriteSample();
        var before = File.ReadAllBytes(path);
        Assert.Throws<InvalidOperationException>(() => SafeTensors.WriteAtomically(path, s =>
        {
            s.Write(new byte[1000]);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void WriterKilledMidway_LeavesAValidCheckpoint()
    {
        var path = WriteSample();
        var helper = HelperPath();
        var psi = new ProcessStartInfo("dotnet", [helper, path, "64"]) { RedirectStandardOutput = true };
        using var writer = Process.Start(psi)!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Directory.GetFiles(_directory, ".*.tmp").Any() && DateTime.UtcNow < deadline && !writer.HasExited)
        {
            Thread.Sleep(1);
        }

        Assert.False(writer.HasExited, "the writer exited before it was killed");
        writer.Kill();
        writer.WaitForExit();
        using var file = SafeTensors.Load(path);
        Assert.True(file.Tensors.ContainsKey("a") || file.Tensors.ContainsKey("big"));
        if (file.Tensors.TryGetValue("big", out var big))
        {
            Assert.Equal(64L * 1024 * 1024 / 4, big.NumberOfElements);
        }
    }

    [Fact]
    public void TrainingCheckpoint_ResumesModelOptimizerSchedulerAndRng_BitExact()
    {
        using var scope = DisposeScope.Enter();
        var path = Path.Combine(_directory, "train.safetensors");
        TorchRuntime.ManualSeed(5);
        using var a = new SmallNet();
        using var optA = new Sgd(a.Parameters(), 0.1, momentum: 0.9);
        var schedA = new StepLR(optA, 2, 0.5);
        Train(a, optA, schedA, 3);
        TrainingCheckpoint.Save(path, a, optA, schedA, epoch: 3, config: "lr: 0.1", extra: new Dictionary<string, string> { ["best"] = "0.5" });
        Train(a, optA, schedA, 2);

        TorchRuntime.ManualSeed(99);
        using var b = new SmallNet();
        using var optB = new Sgd(b.Parameters(), 0.1, momentum: 0.9);
        var schedB = new StepLR(optB, 2, 0.5);
        var state = TrainingCheckpoint.Load(path, b, optB, schedB);
        Assert.Equal(3, state.Epoch);
        Assert.Equal("lr: 0.1", state.Config);
        Assert.Equal("0.5", state.Extra["best"]);
        Train(b, optB, schedB, 2);
        foreach (var (key, value) in a.StateDict())
        {
            Assert.Equal(value.ToBytes(), b.StateDict()[key].ToBytes());
        }

        Assert.Equal(optA.Groups[0].LearningRate, optB.Groups[0].LearningRate);
    }

    [Fact]
    public void TrainingCheckpoint_WithoutAMethodsOwnOptimizer_IsRefusedWhenOneIsGiven_NamingTheMissingKey()
    {
        using var scope = DisposeScope.Enter();
        var path = Path.Combine(_directory, "train.safetensors");
        using var a = new SmallNet();
        TrainingCheckpoint.Save(path, a);
        using var discriminator = new Linear(3, 1);
        using var own = new Adam(discriminator.Parameters(), 1e-3);
        var e = Assert.Throws<CheckpointFormatException>(() => TrainingCheckpoint.Load(path, a, methodOptimizer: own));
        Assert.Contains("'distill.method_learning_rates' is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainingCheckpoint_ForADifferentModel_ChangesNothing()
    {
        using var scope = DisposeScope.Enter();
        var path = Path.Combine(_directory, "train.safetensors");
        using var a = new SmallNet();
        TrainingCheckpoint.Save(path, a);
        using var other = new Sequential(new Linear(3, 2));
        var before = other.StateDict()["0.weight"].Clone();
        Assert.Throws<StateDictMismatchException>(() => TrainingCheckpoint.Load(path, other));
        Assert.Equal(before.ToArray<float>(), other.StateDict()["0.weight"].ToArray<float>());
    }

    private static void Train(SmallNet net, Optimizer optimizer, LearningRateScheduler scheduler, int epochs)
    {
        for (var e = 0; e < epochs; e++)
        {
            using var scope = DisposeScope.Enter();
            var x = Tensor.Randn([4, 1, 8, 8]);
            var y = Tensor.RandInt(0, 10, [4]);
            optimizer.ZeroGrad();
            Functional.CrossEntropy(net.Forward(Functional.Dropout(x, 0.2)), y).Backward();
            optimizer.Step();
            scheduler.Step();
        }
    }

    private static string HelperPath()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = baseDir.Name;
        var configuration = baseDir.Parent!.Name;
        var tests = baseDir.Parent!.Parent!.Parent!.Parent!.FullName;
        var helper = Path.Combine(tests, "Tools", "CheckpointWriter", "bin", configuration, tfm, "CheckpointWriter.dll");
        Assert.True(File.Exists(helper), $"helper not built: {helper}");
        return helper;
    }

    private string WriteSample()
    {
        using var scope = DisposeScope.Enter();
        var path = Path.Combine(_directory, "sample.safetensors");
        SafeTensors.Save(path, [new("a", Tensor.Arange(6).View(2, 3)), new("b", Tensor.Linspace(0, 1, 8))]);
        return path;
    }
}
