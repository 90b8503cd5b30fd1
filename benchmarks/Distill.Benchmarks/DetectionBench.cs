using System.Globalization;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The detection training steps (<see cref="DetStep"/>) beside the same networks, loss and methods in PyTorch eager
/// (det_step_bench.py, reading the batch <see cref="DetStep.Export"/> writes), timed and reported by <see cref="StepComparison"/>.
/// </summary>
internal static class DetectionBench
{
    private static readonly Dictionary<string, string> Labels = new(StringComparer.Ordinal)
    {
        ["teacher"] = "teacher FCOS step (det_scene_teacher)",
        ["teacher_inference"] = "teacher inference (eval, no-grad)",
        ["student"] = "student alone (det_scene_student)",
        ["fgd"] = "student + fgd (P2-P4, masks from the boxes)",
        ["mgd"] = "student + mgd (P2-P4, alpha 2e-5)",
        ["cwd"] = "student + cwd (P2-P4, tau 1, w 5)",
        ["skd_det"] = "student + skd_det (pair P2-P4, pixel logits)",
    };

    public static int Run(int steps, int rounds, int threads)
    {
        TorchRuntime.Threads = threads;
        var loadAtStart = StepComparison.LoadAverage();
        using var step = new DetStep(Device.Cpu);
        var scenes = Path.Combine(Path.GetTempPath(), $"distill-det-bench-{Environment.ProcessId}.json");
        try
        {
            step.Export(scenes);
            var str = (int v) => v.ToString(CultureInfo.InvariantCulture);
            using var python = PythonScript.Serve("det_step_bench.py", str(steps), "--threads", str(threads), "--scenes", scenes, "--serve");
            var positives = step.Positives();
            var theirs = python.Ready.RootElement.GetProperty("positives").GetInt64();
            if (positives != theirs)
            {
                Console.Error.WriteLine($"error: the two sides assign different targets to the same boxes: {positives} positive locations in Distill, {theirs} in PyTorch");
                return 1;
            }

            return StepComparison.Run(
                $"detection training steps: det_scene_teacher -> det_scene_student (FCOS, P2-P4), batch {DetStep.Batch} of 1x96x96 detection scenes ({positives} positive locations), 10 classes, SGD lr 0.01 momentum 0.9 wd 1e-4, grad clip {DetStep.GradClip}",
                step, python, steps, rounds, Labels, loadAtStart);
        }
        finally
        {
            File.Delete(scenes);
        }
    }
}
