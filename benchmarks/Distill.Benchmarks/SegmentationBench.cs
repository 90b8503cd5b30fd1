using System.Diagnostics;
using System.Globalization;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The segmentation training steps (<see cref="SegStep"/>) beside the same networks and losses in PyTorch eager
/// (seg_step_bench.py, its own process, the same torch thread count): images/s of each row, median of the rounds, the
/// ratio, and each process's peak RSS. The rounds alternate between the two processes (PyTorch first in even rounds,
/// Distill first in odd ones), so a change in the machine's load falls on both sides; in a round every row runs one
/// untimed step, then <c>steps</c> timed steps. Beside images/s of wall time it reports images per second of each
/// process's CPU time, which a machine shared with other work disturbs less (a preempted thread spends no CPU time).
/// </summary>
internal static class SegmentationBench
{
    private static readonly Dictionary<string, string> Labels = new(StringComparer.Ordinal)
    {
        ["teacher_ce"] = "teacher CE step (scene_teacher, + aux)",
        ["teacher_inference"] = "teacher inference (eval, no-grad)",
        ["student_ce"] = "student alone (scene_student, + aux)",
        ["cwd"] = "student + cwd (logit maps, tau 4, w 3)",
        ["mgd"] = "student + mgd (stage4, + CWD logits)",
        ["tfd"] = "student + tfd (stages 2-4)",
        ["kd"] = "student + kd (pixel KD, T 1)",
        ["skd"] = "student + skd (+ D step with GP)",
    };

    public static int Run(int steps, int rounds, int threads)
    {
        TorchRuntime.Threads = threads;
        var loadAtStart = LoadAverage();
        var str = (int v) => v.ToString(CultureInfo.InvariantCulture);
        using var python = PythonScript.Serve("seg_step_bench.py", str(steps), "--threads", str(threads), "--serve");
        var torchVersion = python.Ready.RootElement.GetProperty("torch").GetString();
        var pythonThreads = python.Ready.RootElement.GetProperty("threads").GetInt32();
        using var step = new SegStep(Device.Cpu);
        // Per row, images/s of wall time (key row) and of the process's CPU time (key row/cpu).
        var keys = SegStep.Rows.SelectMany(r => new[] { r, r + "/cpu" }).ToArray();
        var ours = keys.ToDictionary(r => r, _ => new List<double>(), StringComparer.Ordinal);
        var theirs = keys.ToDictionary(r => r, _ => new List<double>(), StringComparer.Ordinal);
        for (var round = 0; round < rounds; round++)
        {
            if (round % 2 == 0)
            {
                PythonRound(python, theirs);
                DistillRound(step, steps, ours);
            }
            else
            {
                DistillRound(step, steps, ours);
                PythonRound(python, theirs);
            }

            Console.Error.WriteLine($"round {round + 1}/{rounds} done");
        }

        double pythonRss;
        using (var end = python.Ask("end"))
        {
            pythonRss = end.RootElement.GetProperty("peak_rss_mib").GetDouble();
        }

        using var self = Process.GetCurrentProcess();
        var rss = self.PeakWorkingSet64 / (1024.0 * 1024);
        Console.WriteLine($"segmentation training steps: scene_teacher -> scene_student, batch {SegStep.Batch} of 1x64x64, 11 classes, SGD lr 0.05 momentum 0.9 wd 5e-4");
        Console.WriteLine($"Distill {TorchRuntime.Version} (libtorch {TorchRuntime.LibTorchVersion}, {TorchRuntime.Threads} threads) beside PyTorch {torchVersion} ({pythonThreads} threads), {Environment.ProcessorCount} cores, load average {loadAtStart} at the start, {LoadAverage()} at the end;");
        Console.WriteLine($"{steps} timed steps per row and round (after 1 untimed), {rounds} rounds alternating between the processes; median [min-max]");
        Console.WriteLine();
        Table("img/s", ours, theirs, string.Empty);
        Console.WriteLine();
        Console.WriteLine("The same steps per second of each process's CPU time (all its threads), which a loaded machine disturbs less:");
        Console.WriteLine();
        Table("img/CPU-s", ours, theirs, "/cpu");

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak RSS: Distill {rss:F0} MiB, PyTorch {pythonRss:F0} MiB (whole processes, every row built)"));
        Console.WriteLine("Distill/PyTorch > 1 means Distill is faster.");
        return 0;
    }

    // The machine's 1-minute load average (/proc/loadavg), or "?" where there is none.
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private static string Describe(double[] values) =>
        string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(values):F1} [{values.Min():F1}-{values.Max():F1}]");

    private static void Table(string unit, Dictionary<string, List<double>> ours, Dictionary<string, List<double>> theirs, string suffix)
    {
        Console.WriteLine($"| step | Distill {unit} | PyTorch {unit} | Distill/PyTorch |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var row in SegStep.Rows)
        {
            var (a, b) = (ours[row + suffix].ToArray(), theirs[row + suffix].ToArray());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Labels[row]} | {Describe(a)} | {Describe(b)} | {Stats.Median(a) / Stats.Median(b):F2}x |"));
        }
    }

    private static void PythonRound(PythonSession python, Dictionary<string, List<double>> theirs)
    {
        using var answer = python.Ask("round");
        foreach (var (key, values) in theirs)
        {
            values.Add(answer.RootElement.GetProperty(key).GetDouble());
        }
    }

    // The CPU time of every thread of this process so far.
    private static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static void DistillRound(SegStep step, int steps, Dictionary<string, List<double>> ours)
    {
        foreach (var row in SegStep.Rows)
        {
            using var session = step.Begin(row);
            using (DisposeScope.Enter())
            {
                session.Step();
            }

            var cpu = CpuTime();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < steps; i++)
            {
                using var scope = DisposeScope.Enter();
                session.Step();
            }

            var seconds = clock.Elapsed.TotalSeconds;
            ours[row].Add(steps * SegStep.Batch / seconds);
            ours[row + "/cpu"].Add(steps * SegStep.Batch / (CpuTime() - cpu).TotalSeconds);
        }
    }
}
