using System.Diagnostics;
using System.Globalization;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// One KD training step (<see cref="KdStep"/>: resnet32x4 teacher, eval + no-grad, -> resnet8x4 student, batch 64
/// of random 3x32x32) and one plain CE step of the student, beside the same steps in PyTorch 1.13 (kd_step_bench.py,
/// its own process): images/s, the ratio, and each process's peak RSS.
/// </summary>
internal static class EndToEnd
{
    public static int Run(int steps)
    {
        var threads = Environment.ProcessorCount;
        TorchRuntime.Threads = threads;
        Console.WriteLine($"end-to-end: {steps} steps per measurement, batch 64, {threads} torch threads on both sides");
        var python = RunPython(steps, threads);
        using var step = new KdStep(Device.Cpu);
        var kdRate = ImagesPerSecond(steps, step.Kd);
        var ceRate = ImagesPerSecond(steps, step.Ce);
        using var self = Process.GetCurrentProcess();
        var rss = self.PeakWorkingSet64 / (1024.0 * 1024);
        Console.WriteLine($"{"step",-28} {"Distill img/s",14} {"PyTorch img/s",14} {"Distill/PyTorch",16}");
        Row("KD resnet32x4 -> resnet8x4", kdRate, python.Kd);
        Row("CE resnet8x4", ceRate, python.Ce);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak RSS: Distill {rss:F0} MiB, PyTorch {python.PeakRssMib:F0} MiB (whole processes)"));
        return 0;
    }

    private static void Row(string name, double ours, double theirs) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28} {ours,14:F1} {theirs,14:F1} {ours / theirs,15:F2}x"));

    private static double ImagesPerSecond(int steps, Action step)
    {
        using (DisposeScope.Enter())
        {
            step();
        }

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            using var scope = DisposeScope.Enter();
            step();
        }

        return steps * 64 / clock.Elapsed.TotalSeconds;
    }

    private static (double Kd, double Ce, double PeakRssMib) RunPython(int steps, int threads)
    {
        using var json = PythonScript.Run("kd_step_bench.py", steps.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture), "--ce");
        var r = json.RootElement;
        return (r.GetProperty("kd_images_per_second").GetDouble(), r.GetProperty("ce_images_per_second").GetDouble(), r.GetProperty("peak_rss_mib").GetDouble());
    }
}
