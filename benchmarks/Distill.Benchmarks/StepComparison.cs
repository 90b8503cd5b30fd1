using System.Diagnostics;
using System.Globalization;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// Times the rows of an <see cref="ITimedSteps"/> beside a PyTorch script serving the same rows (its own process, the
/// same torch thread count) and prints the tables: images/s of each row, median and range of the rounds, the ratio, and
/// each process's peak RSS. The rounds alternate between the two processes (PyTorch first in even rounds, Distill first
/// in odd ones), so a change in the machine's load falls on both sides; in a round every row runs one untimed step, then
/// <c>steps</c> timed steps. Beside images/s of wall time it reports images per second of each process's CPU time,
/// which a machine shared with other work disturbs less (a preempted thread spends no CPU time).
/// </summary>
internal static class StepComparison
{
    /// <summary>Runs the rounds and prints the report, <paramref name="title"/> first.</summary>
    /// <param name="title">The first line: what is trained, on what batch, with which optimizer.</param>
    /// <param name="rows">The Distill side.</param>
    /// <param name="python">The PyTorch side, ready (its ready line names "torch" and "threads").</param>
    /// <param name="steps">Timed steps per row and round.</param>
    /// <param name="rounds">Rounds per side.</param>
    /// <param name="labels">Each row's label in the tables.</param>
    /// <param name="loadAtStart">The load average read before either side was built.</param>
    public static int Run(string title, ITimedSteps rows, PythonSession python, int steps, int rounds, IReadOnlyDictionary<string, string> labels, string loadAtStart)
    {
        var torchVersion = python.Ready.RootElement.GetProperty("torch").GetString();
        var pythonThreads = python.Ready.RootElement.GetProperty("threads").GetInt32();

        // Per row, images/s of wall time (key row) and of the process's CPU time (key row/cpu).
        var keys = rows.Rows.SelectMany(r => new[] { r, r + "/cpu" }).ToArray();
        var ours = keys.ToDictionary(r => r, _ => new List<double>(), StringComparer.Ordinal);
        var theirs = keys.ToDictionary(r => r, _ => new List<double>(), StringComparer.Ordinal);
        for (var round = 0; round < rounds; round++)
        {
            if (round % 2 == 0)
            {
                PythonRound(python, theirs);
                DistillRound(rows, steps, ours);
            }
            else
            {
                DistillRound(rows, steps, ours);
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
        var tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        Console.WriteLine(title);
        Console.WriteLine($"Distill {TorchRuntime.Version} (libtorch {TorchRuntime.LibTorchVersion}, {TorchRuntime.Threads} threads) beside PyTorch {torchVersion} ({pythonThreads} threads), {Environment.ProcessorCount} cores, load average {loadAtStart} at the start, {LoadAverage()} at the end;");
        Console.WriteLine($"C allocator: Distill's policy {TorchRuntime.AllocatorPolicy}, GLIBC_TUNABLES {(string.IsNullOrEmpty(tunables) ? "unset" : tunables)} (both processes);");
        Console.WriteLine($"BLAS: {TorchRuntime.BlasLibrary} (the system's libblas.so.3, which both processes' libtorch loads);");
        Console.WriteLine($"{steps} timed steps per row and round (after 1 untimed), {rounds} rounds alternating between the processes; median [min-max]");
        Console.WriteLine();
        Table("img/s", rows.Rows, labels, ours, theirs, string.Empty);
        Console.WriteLine();
        Console.WriteLine("The same steps per second of each process's CPU time (all its threads), which a loaded machine disturbs less:");
        Console.WriteLine();
        Table("img/CPU-s", rows.Rows, labels, ours, theirs, "/cpu");

        Console.WriteLine();
        var cache = TorchRuntime.TensorCache;
        var cacheNote = TorchRuntime.AllocatorPolicy == "cache"
            ? string.Create(CultureInfo.InvariantCulture, $"; Distill's tensor cache: peak of live blocks {cache.PeakLiveBytes / 1048576.0:F0} MiB, {cache.CachedBytes / 1048576.0:F0} MiB kept at the end, {cache.Misses} of {cache.Hits + cache.Misses} requests mapped")
            : string.Empty;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak RSS: Distill {rss:F0} MiB, PyTorch {pythonRss:F0} MiB (whole processes, every row built){cacheNote}"));
        Console.WriteLine("Distill/PyTorch > 1 means Distill is faster.");
        return 0;
    }

    /// <summary>The machine's 1-minute load average (/proc/loadavg), or "?" where there is none.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private static string Describe(double[] values) =>
        string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(values):F1} [{values.Min():F1}-{values.Max():F1}]");

    private static void Table(string unit, IReadOnlyList<string> rows, IReadOnlyDictionary<string, string> labels, Dictionary<string, List<double>> ours, Dictionary<string, List<double>> theirs, string suffix)
    {
        Console.WriteLine($"| step | Distill {unit} | PyTorch {unit} | Distill/PyTorch |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var row in rows)
        {
            var (a, b) = (ours[row + suffix].ToArray(), theirs[row + suffix].ToArray());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {labels[row]} | {Describe(a)} | {Describe(b)} | {Stats.Median(a) / Stats.Median(b):F2}x |"));
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

    private static void DistillRound(ITimedSteps rows, int steps, Dictionary<string, List<double>> ours)
    {
        foreach (var row in rows.Rows)
        {
            using var session = rows.Begin(row);
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
            ours[row].Add(steps * rows.Batch / seconds);
            ours[row + "/cpu"].Add(steps * rows.Batch / (CpuTime() - cpu).TotalSeconds);
        }
    }
}
