using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// Peak resident memory of one training step, Distill beside PyTorch 1.13: each step kind (<see cref="Kinds"/>) runs
/// alone in a fresh process on each side (this executable again with <c>--rss-child KIND</c>, and kd_step_bench.py
/// with <c>--only KIND</c>), which reports its RSS after the runtime and libtorch are loaded, after the step's objects
/// are built, after the first step, and its peak over the steps (the kernel's high-water mark, reset once set up, so
/// the set-up's own transients do not count). With a drift length it also runs the KD step that many steps on both
/// sides, sampling the RSS at a fixed interval, to show whether memory grows over a long run.
/// </summary>
internal static class RssBench
{
    /// <summary>The step kinds: KD with the float32 teacher, KD with the bfloat16 teacher, KD from a soft-label store, plain CE.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["kd", "kd-bf16", "store", "ce"];

    /// <summary>
    /// Runs every kind on both sides for <paramref name="steps"/> steps and prints the table; with more than one of
    /// <paramref name="rounds"/>, every kind's pair of processes again that many times (the table holds each round's rows)
    /// and then each side's median peak with its range, since one process's peak moves by tens of MiB from run to run; then
    /// the drift run when <paramref name="driftSteps"/> is positive.
    /// </summary>
    public static int Run(int steps, int driftSteps, int every, int rounds = 1)
    {
        var threads = Environment.ProcessorCount;
        TorchRuntime.Threads = threads;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"peak RSS of one step: {steps} steps per process, batch 64, {threads} torch threads on both sides; C allocator: Distill's policy {TorchRuntime.AllocatorPolicy}; load average {StepComparison.LoadAverage()} at the start"));
        Console.WriteLine("Each row is a fresh process running only that step. MiB of resident memory (VmRSS):");
        Console.WriteLine("  loaded: runtime and libtorch loaded, nothing built (.NET runtime + JIT, or Python + import torch)");
        Console.WriteLine("  set up: the step's models, optimizer and data built (store: built with a teacher, which is then dropped)");
        Console.WriteLine("  1st step: after the first step; peak: the highest RSS over the steps (VmHWM, reset once set up)");
        Console.WriteLine("  growth: peak - set up, the step's own memory; kd-bf16 makes its bfloat16 teacher copy in its first step, on both sides");
        Console.WriteLine();
        Console.WriteLine($"| step | side | loaded | set up | 1st step | peak | growth | peak vs PyTorch |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        var peaks = Kinds.ToDictionary(k => k, _ => (Ours: new List<double>(), Theirs: new List<double>()));
        for (var round = 0; round < rounds; round++)
        {
            foreach (var kind in Kinds)
            {
                using var ours = Ours(kind, steps, 0);
                using var theirs = Theirs(kind, steps, threads, 0);
                Row(kind, "Distill", ours.RootElement, theirs.RootElement);
                Row(kind, "PyTorch", theirs.RootElement, null);
                peaks[kind].Ours.Add(ours.RootElement.GetProperty("peak_mib").GetDouble());
                peaks[kind].Theirs.Add(theirs.RootElement.GetProperty("peak_mib").GetDouble());
            }
        }

        if (rounds > 1)
        {
            Console.WriteLine();
            Console.WriteLine($"Peak over {rounds} rounds (MiB): median (min-max)");
            Console.WriteLine("| step | Distill | PyTorch | median difference |");
            Console.WriteLine("| --- | --- | --- | --- |");
            foreach (var (kind, (ours, theirs)) in peaks)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {kind} | {Stats.Median([.. ours]):F0} ({ours.Min():F0}-{ours.Max():F0}) | {Stats.Median([.. theirs]):F0} ({theirs.Min():F0}-{theirs.Max():F0}) | {Stats.Median([.. ours]) - Stats.Median([.. theirs]):+0;-0;0} |"));
            }
        }

        if (driftSteps > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"KD step, {driftSteps} steps in one process, RSS (MiB) every {every} steps after set-up:");
            using var ours = Ours("kd", driftSteps, every);
            using var theirs = Theirs("kd", driftSteps, threads, every);
            Drift("Distill", ours.RootElement);
            Drift("PyTorch", theirs.RootElement);
        }

        Console.WriteLine($"load average: {StepComparison.LoadAverage()} at the end");
        return 0;
    }

    /// <summary>The child's side of <see cref="Run"/>: builds only <paramref name="kind"/>'s step, runs it and prints the memory as one JSON line.</summary>
    public static int Child(string kind, int steps, int every)
    {
        TorchRuntime.Threads = Environment.ProcessorCount;
        var loaded = StatusMib("VmRSS");
        return kind switch
        {
            "kd" or "kd-bf16" or "ce" => Measure(kind, steps, every, loaded, () => new KdStep(Device.Cpu), s => kind switch
            {
                "kd" => s.Kd,
                "kd-bf16" => s.KdBf16,
                _ => s.Ce,
            }),
            "store" => Measure(kind, steps, every, loaded, () => new SoftLabelStep(), s => s.Kd),
            _ => throw new ArgumentException($"--rss-child {kind}: expected one of {string.Join(", ", Kinds)}", nameof(kind)),
        };
    }

    private static int Measure<T>(string kind, int steps, int every, double loaded, Func<T> build, Func<T, Action> stepOf)
        where T : IDisposable
    {
        using var built = build();
        var step = stepOf(built);
        var setup = StatusMib("VmRSS");
        var setupPeak = StatusMib("VmHWM");
        // Writing 5 to clear_refs resets the high-water mark to the current RSS: from here it is the steps' peak.
        File.WriteAllText("/proc/self/clear_refs", "5");
        var first = 0.0;
        var samples = new List<double>();
        for (var i = 1; i <= steps; i++)
        {
            using (DisposeScope.Enter())
            {
                step();
            }

            if (i == 1)
            {
                first = StatusMib("VmRSS");
            }

            if (every > 0 && i % every == 0)
            {
                samples.Add(StatusMib("VmRSS"));
            }
        }

        var cache = TorchRuntime.TensorCache;
        var result = new Dictionary<string, object>
        {
            ["kind"] = kind, ["steps"] = steps, ["loaded_mib"] = loaded, ["setup_mib"] = setup, ["setup_peak_mib"] = setupPeak,
            ["first_step_mib"] = first, ["peak_mib"] = StatusMib("VmHWM"), ["samples_mib"] = samples, ["every"] = every,
            ["anon_mib"] = StatusMib("RssAnon"), ["file_mib"] = StatusMib("RssFile"),
            ["cache_peak_live_mib"] = cache.PeakLiveBytes / 1048576.0, ["cache_kept_mib"] = cache.CachedBytes / 1048576.0,
            ["cache_hits"] = cache.Hits, ["cache_misses"] = cache.Misses,
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>A field of /proc/self/status (VmRSS: resident now, VmHWM: peak resident) in MiB.</summary>
    private static double StatusMib(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }

    private static JsonDocument Ours(string kind, int steps, int every)
    {
        // Run under `dotnet Distill.Benchmarks.dll` the process is the host, and the assembly is its first argument.
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("the benchmark's executable path is unknown");
        var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(RssBench).Assembly.Location);
        }

        foreach (var a in new[] { "--rss-child", kind, "--steps", steps.ToString(CultureInfo.InvariantCulture), "--every", every.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {self}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"--rss-child {kind} failed ({process.ExitCode}): {stderr.Result}");
        }

        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
    }

    private static JsonDocument Theirs(string kind, int steps, int threads, int every) =>
        PythonScript.Run("kd_step_bench.py", steps.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--only", kind, "--every", every.ToString(CultureInfo.InvariantCulture));

    private static void Row(string kind, string side, JsonElement r, JsonElement? theirs)
    {
        double Mib(JsonElement e, string key) => e.GetProperty(key).GetDouble();
        var (setup, peak) = (Mib(r, "setup_mib"), Mib(r, "peak_mib"));
        var versus = theirs is { } t ? string.Create(CultureInfo.InvariantCulture, $"{peak - Mib(t, "peak_mib"):+0;-0;0} MiB") : string.Empty;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {kind} | {side} | {Mib(r, "loaded_mib"):F0} | {setup:F0} | {Mib(r, "first_step_mib"):F0} | {peak:F0} | {peak - setup:F0} | {versus} |"));
    }

    private static void Drift(string side, JsonElement r)
    {
        var samples = r.GetProperty("samples_mib").EnumerateArray().Select(s => s.GetDouble().ToString("F0", CultureInfo.InvariantCulture));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {side}: set up {r.GetProperty("setup_mib").GetDouble():F0}, then {string.Join(" ", samples)}; peak {r.GetProperty("peak_mib").GetDouble():F0}"));
    }
}
