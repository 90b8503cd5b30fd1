using System.Diagnostics;
using System.Globalization;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The segmentation training steps (<see cref="SegStep"/>) beside the same networks and losses in PyTorch eager
/// (seg_step_bench.py, its own process, the same torch thread count): images/s of each row, median of the rounds, the
/// ratio, and each process's peak RSS. The rounds alternate between the two processes (PyTorch first in even rounds,
/// Distill first in odd ones), so a change in the machine's load falls on both sides; in a round every row runs one
/// untimed step, then <c>steps</c> timed steps.
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

    public static int Run(int steps, int rounds)
    {
        var threads = Environment.ProcessorCount;
        TorchRuntime.Threads = threads;
        var str = (int v) => v.ToString(CultureInfo.InvariantCulture);
        using var python = PythonScript.Serve("seg_step_bench.py", str(steps), "--threads", str(threads), "--serve");
        var torchVersion = python.Ready.RootElement.GetProperty("torch").GetString();
        var pythonThreads = python.Ready.RootElement.GetProperty("threads").GetInt32();
        using var step = new SegStep(Device.Cpu);
        var ours = SegStep.Rows.ToDictionary(r => r, _ => new List<double>(), StringComparer.Ordinal);
        var theirs = SegStep.Rows.ToDictionary(r => r, _ => new List<double>(), StringComparer.Ordinal);
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
        Console.WriteLine($"Distill {TorchRuntime.Version} (libtorch {TorchRuntime.LibTorchVersion}, {TorchRuntime.Threads} threads) beside PyTorch {torchVersion} ({pythonThreads} threads), {Environment.ProcessorCount} cores;");
        Console.WriteLine($"{steps} timed steps per row and round (after 1 untimed), {rounds} rounds alternating between the processes; median [min-max] images/s");
        Console.WriteLine();
        Console.WriteLine("| step | Distill img/s | PyTorch img/s | Distill/PyTorch |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var row in SegStep.Rows)
        {
            var (a, b) = (ours[row].ToArray(), theirs[row].ToArray());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Labels[row]} | {Describe(a)} | {Describe(b)} | {Stats.Median(a) / Stats.Median(b):F2}x |"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak RSS: Distill {rss:F0} MiB, PyTorch {pythonRss:F0} MiB (whole processes, every row built)"));
        Console.WriteLine("Distill/PyTorch > 1 means Distill is faster.");
        return 0;
    }

    private static string Describe(double[] values) =>
        string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(values):F1} [{values.Min():F1}-{values.Max():F1}]");

    private static void PythonRound(PythonSession python, Dictionary<string, List<double>> theirs)
    {
        using var answer = python.Ask("round");
        foreach (var row in SegStep.Rows)
        {
            theirs[row].Add(answer.RootElement.GetProperty(row).GetDouble());
        }
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

            var clock = Stopwatch.StartNew();
            for (var i = 0; i < steps; i++)
            {
                using var scope = DisposeScope.Enter();
                session.Step();
            }

            ours[row].Add(steps * SegStep.Batch / clock.Elapsed.TotalSeconds);
        }
    }
}
