using System.Globalization;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The segmentation training steps (<see cref="SegStep"/>) beside the same networks and losses in PyTorch eager
/// (seg_step_bench.py), timed and reported by <see cref="StepComparison"/>.
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
        var loadAtStart = StepComparison.LoadAverage();
        var str = (int v) => v.ToString(CultureInfo.InvariantCulture);
        using var python = PythonScript.Serve("seg_step_bench.py", str(steps), "--threads", str(threads), "--serve");
        using var step = new SegStep(Device.Cpu);
        return StepComparison.Run(
            $"segmentation training steps: scene_teacher -> scene_student, batch {SegStep.Batch} of 1x64x64, 11 classes, SGD lr 0.05 momentum 0.9 wd 5e-4",
            step, python, steps, rounds, Labels, loadAtStart);
    }
}
