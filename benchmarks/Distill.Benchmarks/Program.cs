using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Distill.Benchmarks;
using Distill.Torch;

// Distill.Torch beside PyTorch 1.13 on this machine, in this run: a tiny op (add of two 1-element
// tensors) and a ResNet-sized conv2d forward+backward ([32, 64, 32, 32] input, 64 3x3 filters).
// Usage: dotnet run -c Release --project benchmarks/Distill.Benchmarks [-- --rounds 7 --quick]
// `-- --e2e [--steps N]` runs the end-to-end KD step benchmark instead (in its own process, for peak RSS).
// `-- --assignment [--rounds N]` times the linear sum assignment at 512, 1024 and 2048 beside scipy.
// `-- --methods [--rounds N] [--steps N]` times a training step of every method through the trainer.
// `-- --seg [--steps N] [--rounds R] [--threads T]` times the segmentation training steps (scene pair, dense methods) beside PyTorch.
// `-- --det [--steps N] [--rounds R] [--threads T]` times the detection training steps (FCOS scene pair, detection methods) beside PyTorch.
// `-- --teacher [--steps N] [--rounds R] [--threads T]` times the teacher's forward alone as loaded, folded, channels-last and bf16, beside PyTorch.
// `-- --rss [--steps N] [--rounds R] [--drift S --every E]` measures each KD/CE step's resident memory alone in fresh processes beside PyTorch.
if (Array.IndexOf(args, "--rss-child") is var childAt and >= 0)
{
    return RssBench.Child(args[childAt + 1], ReadOption(args, "--steps", 10), ReadOption(args, "--every", 0));
}

if (args.Contains("--rss"))
{
    return RssBench.Run(ReadOption(args, "--steps", 10), ReadOption(args, "--drift", 0), ReadOption(args, "--every", 50), ReadOption(args, "--rounds", 1));
}

if (Array.IndexOf(args, "--det-profile") is var profileAt and >= 0)
{
    // `-- --det-profile ROW --scenes FILE [--steps N] [--threads T]`: only ROW's steps (one untimed, then N), for a
    // profiler (perf record) beside det_step_bench.py's Bench(FILE).steps[ROW]; writes the batch to FILE for that side.
    TorchRuntime.Threads = ReadOption(args, "--threads", Environment.ProcessorCount);
    using var det = new DetStep(Device.Cpu);
    det.Export(args[Array.IndexOf(args, "--scenes") + 1]);
    // Each step in its own dispose scope, as StepComparison times it: without one a step's tensors wait for the
    // finalizer thread, the process grows by each step's activations and the profile is not the benchmark's.
    using var session = det.Begin(args[profileAt + 1]);
    using (DisposeScope.Enter())
    {
        session.Step();
    }

    using var self = Process.GetCurrentProcess();
    var cpuAtStart = self.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var profileSteps = ReadOption(args, "--steps", 20);
    for (var i = 0; i < profileSteps; i++)
    {
        using var scope = DisposeScope.Enter();
        session.Step();
    }

    var wall = clock.Elapsed.TotalSeconds;
    self.Refresh();
    var cpu = (self.TotalProcessorTime - cpuAtStart).TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{args[profileAt + 1]}: {profileSteps} steps in {wall:F2} s wall, {cpu:F2} s CPU (all threads)"));
    return 0;
}

if (Array.IndexOf(args, "--teacher-models") is var modelsAt and >= 0)
{
    // `-- --teacher-models m1,m2,... [--steps N] [--rounds R]`: ours only, folded vs folded with channels-last images, per model.
    return TeacherForwardBench.RunModels(args[modelsAt + 1].Split(','), ReadOption(args, "--steps", 4), ReadOption(args, "--rounds", 3), ReadOption(args, "--threads", Environment.ProcessorCount));
}

if (args.Contains("--teacher"))
{
    return TeacherForwardBench.Run(ReadOption(args, "--steps", 4), ReadOption(args, "--rounds", 5), ReadOption(args, "--threads", Environment.ProcessorCount));
}

if (args.Contains("--det"))
{
    return DetectionBench.Run(ReadOption(args, "--steps", 4), ReadOption(args, "--rounds", 5), ReadOption(args, "--threads", Environment.ProcessorCount));
}

if (args.Contains("--seg"))
{
    return SegmentationBench.Run(ReadOption(args, "--steps", 8), ReadOption(args, "--rounds", 5), ReadOption(args, "--threads", Environment.ProcessorCount));
}

if (args.Contains("--methods"))
{
    return MethodBench.Run(ReadOption(args, "--rounds", 3), ReadOption(args, "--steps", 10));
}

if (args.Contains("--assignment"))
{
    return AssignmentBench.Run([512, 1024, 2048], ReadOption(args, "--rounds", 3));
}

if (args.Contains("--e2e"))
{
    var e2eSteps = Array.IndexOf(args, "--steps") is var at and >= 0 ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 10;
    return EndToEnd.Run(e2eSteps);
}

var quick = args.Contains("--quick");
var rounds = ReadOption(args, "--rounds", quick ? 3 : 7);
var tinyIters = quick ? 20_000 : 200_000;
var convIters = quick ? 2 : 5;
var threads = TorchRuntime.Threads;

Console.WriteLine($"Distill {TorchRuntime.Version}, libtorch {TorchRuntime.LibTorchVersion}, {Environment.ProcessorCount} cores, {threads} torch thread(s), {rounds} rounds");
var python = PythonSide.Run(rounds, tinyIters, convIters, threads);
var tiny = OpLoops.Tiny(rounds, tinyIters);
var conv = OpLoops.Conv(rounds, convIters);

var table = new[]
{
    ("add 1-element (ns/op)", tiny, python.TinyNs),
    ("conv2d fwd+bwd (ms/iter)", conv, python.ConvMs),
};
Console.WriteLine();
Console.WriteLine($"{"benchmark",-26} {"Distill median [min-max]",-28} {"PyTorch median [min-max]",-28} {"PyTorch/Distill",15}");
foreach (var (name, ours, theirs) in table)
{
    var ratio = Stats.Median(theirs) / Stats.Median(ours);
    Console.WriteLine($"{name,-26} {Stats.Describe(ours),-28} {Stats.Describe(theirs),-28} {ratio.ToString("F2", CultureInfo.InvariantCulture),14}x");
}

Console.WriteLine();
Console.WriteLine("PyTorch/Distill > 1 means Distill is faster. Targets: add >= 3x, conv >= 0.95x.");
return 0;

static int ReadOption(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
