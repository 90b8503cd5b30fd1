using Distill.Tasks;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>What `distill eval` prints for a segmentation model: mIoU, pixel accuracy and a per-class IoU table with the class names.</summary>
public sealed class EvalPrintingTests
{
    [Fact]
    public void SegmentationEvaluation_PrintsMiouPixelAccuracy_AndANamedPerClassIoUTable_WithADashForAnAbsentClass()
    {
        // The hand-worked confusion of the segmentation task's tests: IoU 0.6, 2/3, 0.5 and class 3 absent.
        var (metrics, iou) = SegmentationTask.Metrics([3, 1, 0, 0, 0, 2, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0], 4);
        var evaluation = new TaskEvaluation(2, metrics, SegmentationTask.MeanIoU) { Breakdown = iou };
        var output = new StringWriter();
        EvalCommand.PrintSegmentation(ModelCommands.ConsoleFor(output), "tiny on scenes (2 images)", evaluation, ["background", "t-shirt", "trouser", "pullover"]);

        var lines = output.ToString().Split('\n');
        // Spectre wraps a line longer than the console (80 columns for a writer) at a space.
        Assert.StartsWith("tiny on scenes (2 images): mIoU 58.89%, pixel accuracy 75.00% (mean over the 3 of 4 classes present)\n",
            string.Join(' ', lines.TakeWhile(l => !l.Contains('─', StringComparison.Ordinal) && !l.Contains('-', StringComparison.Ordinal)).Select(l => l.TrimEnd())) + "\n", StringComparison.Ordinal);
        Assert.Single(lines, l => Row(l) is ["0", "background", "60.00%"]);
        Assert.Single(lines, l => Row(l) is ["1", "t-shirt", "66.67%"]);
        Assert.Single(lines, l => Row(l) is ["2", "trouser", "50.00%"]);
        Assert.Single(lines, l => Row(l) is ["3", "pullover", "—"]);
        Assert.Single(lines, l => Row(l) is ["class", "name", "IoU"]);
    }

    [Fact]
    public void ClassificationEvaluation_PrintsTopOneAndTheIndexedPerClassAccuracyTable_AsBefore()
    {
        var evaluation = new TaskEvaluation(4, new Dictionary<string, double> { [ClassificationTask.Top1] = 0.75, [ClassificationTask.Top5] = 1.0 }, ClassificationTask.Top1)
        {
            Breakdown = [0.5, 1.0],
        };
        var output = new StringWriter();
        var task = new ClassificationTask();
        EvalCommand.PrintClassification(ModelCommands.ConsoleFor(output), "resnet8 on fashion-mnist (4 images)", task, evaluation);
        var lines = output.ToString().Split('\n');
        Assert.Equal($"resnet8 on fashion-mnist (4 images): {task.Describe(evaluation)}", lines[0].TrimEnd());
        Assert.Single(lines, l => Row(l) is ["0", "50.00 %"]);
        Assert.Single(lines, l => Row(l) is ["1", "100.00 %"]);
    }

    [Fact]
    public void DetectionEvaluation_PrintsTheTwelveCocoNumbers_AndANamedPerCategoryApTable_WithADashForACategoryWithoutGroundTruth()
    {
        var metrics = Distill.Tasks.Detection.DetectionTask.MetricKeys.Select((k, i) => (k, v: i == 3 ? -1.0 : (i + 1) / 20.0)).ToDictionary(p => p.k, p => p.v);
        var evaluation = new TaskEvaluation(5, metrics, Distill.Tasks.Detection.DetectionTask.MeanAp) { Breakdown = [0.1, double.NaN, 0.4] };
        var output = new StringWriter();
        EvalCommand.PrintDetection(ModelCommands.ConsoleFor(output), "det on detection-scenes (5 images)", evaluation, ["t-shirt", "trouser", "pullover"]);

        var lines = output.ToString().Split('\n');
        Assert.Equal("det on detection-scenes (5 images): mAP 5.00%, AP50 10.00%, AP75 15.00%", lines[0].TrimEnd());
        Assert.Single(lines, l => Row(l) is [_, "map", "5.00%"]);
        Assert.Single(lines, l => Row(l) is [_, "aps", "—"]);
        Assert.Single(lines, l => Row(l) is [_, "ar100", "45.00%"]);
        Assert.Single(lines, l => Row(l) is [_, "arl", "60.00%"]);
        Assert.Equal(12, lines.Count(l => Row(l) is [_, var key, _] && Distill.Tasks.Detection.DetectionTask.MetricKeys.Contains(key)));
        Assert.Single(lines, l => Row(l) is ["0", "t-shirt", "10.00%"]);
        Assert.Single(lines, l => Row(l) is ["1", "trouser", "—"]);
        Assert.Single(lines, l => Row(l) is ["2", "pullover", "40.00%"]);
        Assert.Single(lines, l => Row(l) is ["category", "name", "AP"]);
    }

    /// <summary>A table line's cells (Spectre's box characters or ASCII borders), trimmed; empty for a border line.</summary>
    private static string[] Row(string line) =>
        [.. line.Split(['│', '|'], StringSplitOptions.TrimEntries).Where(c => c.Length > 0 && c.Any(ch => char.IsLetterOrDigit(ch) || ch == '—'))];
}
