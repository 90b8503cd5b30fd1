using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Distill.Benchmarks;
using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Tasks;
using Distill.Testing;
using Distill.Torch;
using Distill.Torch.Tests;
using Distill.Torch.Tests.Golden;

namespace Distill.GpuCheck;

/// <summary>
/// The device machine's check (eng/gpu/run.sh): on one device, the op goldens of Distill.Torch.Tests (TF32 off), the
/// KD/DKD golden terms and gradients, a resume round trip through TrainingRun (plus the checkpoint loaded on the host),
/// and the KD step benchmark (resnet32x4 -> resnet8x4, batch 64, SGD) in images/s. Prints each result and writes
/// them as JSON; the exit code is 1 when a check fails.
/// Usage: distill-gpucheck [--device cuda] [--steps 50] [--out results.json] [--skip-bench]
/// </summary>
internal static class Program
{
    private static readonly List<string> Failures = [];

    public static int Main(string[] args)
    {
        var deviceText = Arg(args, "--device") ?? Environment.GetEnvironmentVariable("DISTILL_GPU_DEVICE") ?? "cuda";
        var steps = int.Parse(Arg(args, "--steps") ?? "50", CultureInfo.InvariantCulture);
        var output = Arg(args, "--out");
        var results = new Dictionary<string, object?>(StringComparer.Ordinal);
        Console.WriteLine($"distill-gpucheck: Distill {TorchRuntime.Version}, libtorch {TorchRuntime.LibTorchVersion}, shim ABI {TorchRuntime.AbiVersion}, {TorchRuntime.Threads} threads");
        Console.WriteLine($"cuda available: {TorchRuntime.CudaIsAvailable}, devices: {TorchRuntime.CudaDeviceCount}");
        foreach (var d in TorchRuntime.CudaIsAvailable ? TorchRuntime.CudaDevices : [])
        {
            Console.WriteLine($"  {d}");
            results[$"gpu{d.Index}"] = d.ToString();
        }

        Device device;
        try
        {
            device = RunDevice.Resolve(deviceText, "--device");
        }
        catch (ConfigException e)
        {
            Console.WriteLine($"FAIL device: {e.Message}");
            return 2;
        }

        results["device"] = device.ToString();
        results["libtorch"] = TorchRuntime.LibTorchVersion;
        Step("ops", results, () => Ops(device));
        Step("method", results, () => MethodGolden(device));
        Step("resume", results, () => Resume(device));
        if (!args.Contains("--skip-bench"))
        {
            Step("bench", results, () => Bench(device, steps));
        }

        results["failures"] = Failures;
        var json = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true });
        if (output is not null)
        {
            File.WriteAllText(output, json);
        }

        Console.WriteLine(Failures.Count == 0 ? "ALL CHECKS PASSED" : $"{Failures.Count} CHECK(S) FAILED: {string.Join("; ", Failures)}");
        return Failures.Count == 0 ? 0 : 1;
    }

    private static void Step(string name, Dictionary<string, object?> results, Func<object> body)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            results[name] = body();
        }
        catch (Exception e)
        {
            Failures.Add($"{name}: {e.GetType().Name}: {e.Message}");
            results[name] = new { error = e.ToString() };
            Console.WriteLine($"FAIL {name}: {e}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{name}: {clock.Elapsed.TotalSeconds:F1} s]"));
    }

    /// <summary>Every case of the op tables compiled in, inputs on the device, compared with PyTorch 1.13's CPU values.</summary>
    private static object Ops(Device device)
    {
        var tables = new (string Name, Dictionary<string, GoldenOp> Ops)[]
        {
            ("math", MathGoldenTests.Ops), ("reduction", ReductionGoldenTests.Ops), ("shape", ShapeGoldenTests.Ops),
            ("functional", FunctionalGoldenTests.Ops), ("loss", LossGoldenTests.Ops), ("autograd", AutogradGoldenTests.Ops),
            ("inplace", InPlaceGoldenTests.Ops),
        };
        GoldenRunner.Device = device;
        if (TorchRuntime.CudaIsAvailable)
        {
            // Float32 goldens: no TF32 in convolutions or matrix products (the benchmark keeps libtorch's defaults).
            TorchRuntime.SetCudaAllowTF32(cudnn: false, cublas: false);
        }

        var passed = 0;
        var failed = new List<string>();
        try
        {
            foreach (var (_, ops) in tables)
            {
                foreach (var name in ops.Keys.Where(GoldenFixture.Cases.ContainsKey).Order(StringComparer.Ordinal))
                {
                    try
                    {
                        GoldenRunner.Run(name, ops);
                        passed++;
                    }
                    catch (Exception e)
                    {
                        failed.Add($"{name}: {e.Message.ReplaceLineEndings(" ")}");
                    }
                }
            }
        }
        finally
        {
            GoldenRunner.Device = Device.Cpu;
            if (TorchRuntime.CudaIsAvailable)
            {
                TorchRuntime.SetCudaAllowTF32(cudnn: true, cublas: false);
            }
        }

        Console.WriteLine($"ops: {passed} golden cases passed, {failed.Count} failed on {device}");
        foreach (var f in failed)
        {
            Console.WriteLine($"  FAIL {f}");
        }

        if (failed.Count > 0)
        {
            Failures.Add($"ops: {failed.Count} golden case(s) failed");
        }

        return new { passed, failed };
    }

    /// <summary>KD, KD+LS, DKD, DKD+LS terms and student-logit gradients (tests/Fixtures/logit_methods.json) on the device, in float64.</summary>
    private static object MethodGolden(Device device)
    {
        var golden = new JsonFixture("logit_methods.json");
        var methods = new Dictionary<string, Func<Distiller>>(StringComparer.Ordinal)
        {
            ["kd"] = () => new KnowledgeDistillation(),
            ["kd_ls"] = () => KnowledgeDistillation.WithLogitStandardization(),
            ["dkd"] = () => new DecoupledKnowledgeDistillation(),
            ["dkd_warmup_epoch5"] = () => new DecoupledKnowledgeDistillation(),
            ["dkd_ls"] = () => new DecoupledKnowledgeDistillation(new() { Alpha = 9, Beta = 72, Temperature = 2, LogitStandardization = true }),
        };
        var passed = 0;
        var failed = new List<string>();
        foreach (var c in golden.Root.EnumerateObject())
        {
            var method = c.Name.Split('.')[0];
            try
            {
                using var scope = DisposeScope.Enter();
                var student = GoldenTensor.Parse(c.Value.GetProperty("student")).ToTensor().To(device).RequireGrad();
                var teacher = GoldenTensor.Parse(c.Value.GetProperty("teacher")).ToTensor().To(device);
                var labels = GoldenTensor.Parse(c.Value.GetProperty("labels")).ToTensor().To(device);
                using var distiller = methods[method]();
                distiller.To(device);
                var epoch = method.EndsWith("epoch5", StringComparison.Ordinal) ? 5 : 20;
                // The fixture's terms include the task's weighted "ce", which the trainer adds beside the method's own.
                var terms = ClassificationTask.Default.StepLoss(distiller, new DistillationInputs(student, teacher, labels, labels, null, null, epoch));
                foreach (var e in c.Value.GetProperty("terms").EnumerateObject())
                {
                    var actual = terms[e.Name].Item<double>();
                    if (!GoldenTensor.Close(actual, e.Value.GetDouble(), floating: true))
                    {
                        throw new InvalidOperationException($"term {e.Name}: {actual:R}, reference {e.Value.GetDouble():R}");
                    }
                }

                terms.Total().Backward();
                if (student.Grad!.Device != device)
                {
                    throw new InvalidOperationException($"the gradient is on {student.Grad.Device}");
                }

                GoldenTensor.Parse(c.Value.GetProperty("grad_student")).AssertMatches(student.Grad, $"{c.Name} gradient");
                passed++;
            }
            catch (Exception e)
            {
                failed.Add($"{c.Name}: {e.Message.ReplaceLineEndings(" ")}");
            }
        }

        Console.WriteLine($"method goldens (kd, kd+ls, dkd, dkd+ls): {passed} passed, {failed.Count} failed on {device}");
        foreach (var f in failed)
        {
            Console.WriteLine($"  FAIL {f}");
        }

        if (failed.Count > 0)
        {
            Failures.Add($"method: {failed.Count} golden case(s) failed");
        }

        return new { passed, failed };
    }

    /// <summary>
    /// Two epochs of KD on synthetic IDX data straight, and one epoch, a stop and a resume: the final weights agree
    /// (bit-exact on the CPU; on CUDA within what cuDNN's non-deterministic backward allows), and the checkpoint saved
    /// from the device loads on the host and gives the device's logits.
    /// </summary>
    private static object Resume(Device device)
    {
        var root = Directory.CreateTempSubdirectory("distill-gpucheck-").FullName;
        try
        {
            TinyIdx.Write(root, train: 128, test: 64, gzip: false);
            string Recipe(string output, string method, string? teacher) => $"""
                data:
                  dataset: idx
                  root: {root}
                  batch_size: 32
                student:
                  model: resnet8
                {(teacher is null ? string.Empty : $"teacher:\n  model: resnet8\n  checkpoint: {teacher}\n")}method:
                  name: {method}
                train:
                  epochs: 2
                  lr: 0.05
                  schedule: cosine
                  seed: 3
                  device: {device}
                output: {Path.Combine(root, output)}
                """;
            TrainingRun.Execute(Recipes.Parse(Recipe("teacher", "none", null)), notices: TextWriter.Null);
            var teacherPath = Path.Combine(root, "teacher", "best.safetensors");
            TrainingRun.Execute(Recipes.Parse(Recipe("straight", "kd", teacherPath)), notices: TextWriter.Null);
            var interrupted = Recipes.Parse(Recipe("resumed", "kd", teacherPath));
            try
            {
                TrainingRun.Execute(interrupted, onEpoch: _ => throw new OperationCanceledException(), notices: TextWriter.Null);
            }
            catch (OperationCanceledException)
            {
                // stopped after epoch 1, as a crash would
            }

            TrainingRun.Execute(interrupted, resume: true, notices: TextWriter.Null);
            using var scope = DisposeScope.Enter();
            using var straight = SafeTensors.Load(Path.Combine(root, "straight", "last.safetensors"));
            using var resumed = SafeTensors.Load(Path.Combine(root, "resumed", "last.safetensors"));
            double largest = 0, difference = 0;
            var identical = true;
            foreach (var (key, a) in TrainingCheckpoint.ModelState(straight))
            {
                var b = TrainingCheckpoint.ModelState(resumed)[key];
                if (!a.DType.IsFloatingPoint())
                {
                    identical &= a.Eq(b).All().Item<bool>();
                    continue;
                }

                largest = Math.Max(largest, a.Abs().Max().Item<float>());
                var d = (a - b).Abs().Max().Item<float>();
                difference = Math.Max(difference, d);
                identical &= d == 0;
            }

            // Cross-device: the device's checkpoint in a host model gives the device model's logits.
            var options = new ModelOptions(10, 1, 12);
            using var onHost = ModelRegistry.Create("resnet8", options);
            onHost.LoadStateDict(TrainingCheckpoint.ModelState(straight));
            using var onDevice = ModelRegistry.Create("resnet8", options);
            onDevice.To(device);
            using (var file = SafeTensors.Load(Path.Combine(root, "straight", "last.safetensors"), device))
            {
                onDevice.LoadStateDict(TrainingCheckpoint.ModelState(file));
            }

            onHost.Eval();
            onDevice.Eval();
            var x = Tensor.Randn([8, 1, 12, 12]);
            using var noGrad = Autograd.NoGrad();
            var hostLogits = onHost.Forward(x);
            var deviceLogits = onDevice.Forward(x.To(device)).To(Device.Cpu);
            var logitDifference = (double)(hostLogits - deviceLogits).Abs().Max().Item<float>();
            var logitScale = (double)hostLogits.Abs().Max().Item<float>();

            // Float32 training on a GPU: summation order varies between runs, so a resumed run may drift by rounding
            // noise amplified over 8 steps; 1e-3 of the largest weight bounds that and still catches a wrong resume.
            var resumeOk = identical || difference <= 1e-3 * largest;
            var crossOk = logitDifference <= 1e-4 * Math.Max(1, logitScale);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"resume: straight vs stopped+resumed max |dw| {difference:G3} (largest |w| {largest:G3}, bit-exact {identical}) {(resumeOk ? "PASS" : "FAIL")}; checkpoint on the host vs {device}: max |dlogit| {logitDifference:G3} {(crossOk ? "PASS" : "FAIL")}"));
            if (!resumeOk)
            {
                Failures.Add("resume: the resumed run's weights differ");
            }

            if (!crossOk)
            {
                Failures.Add("resume: the checkpoint gives other logits on the host");
            }

            return new { max_weight_difference = difference, largest_weight = largest, bit_exact = identical, host_vs_device_logit_difference = logitDifference };
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The KD step of benchmarks/Distill.Benchmarks/EndToEnd.cs on the device: images/s after a warm-up, synchronised.</summary>
    private static object Bench(Device device, int steps)
    {
        using var step = new KdStep(device);
        void Timed()
        {
            using var scope = DisposeScope.Enter();
            step.Kd();
        }

        for (var i = 0; i < 5; i++)
        {
            Timed();
        }

        Synchronize(device);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            Timed();
        }

        Synchronize(device);
        var rate = steps * KdStep.Batch / clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: Distill KD step resnet32x4 -> resnet8x4, batch 64, {steps} steps on {device}: {rate:F1} images/s"));
        return new { kd_images_per_second = rate, steps, batch = 64 };
    }

    private static void Synchronize(Device device)
    {
        if (device.Type == DeviceType.Cuda)
        {
            TorchRuntime.CudaSynchronize(device.Index);
        }
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
