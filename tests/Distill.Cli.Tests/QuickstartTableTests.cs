using Distill.Engine.Comparison;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>The quickstart's results table as the console shows it.</summary>
public sealed class QuickstartTableTests
{
    [Fact]
    public void DetectionTable_ShowsTheCocoTitleLiterally_AndAp50Ap75MeanStdBesideMap()
    {
        var rows = new[]
        {
            new ComparisonRow("det_scene_teacher", "teacher", [0.40], 10, 5) { FinalMetrics = [new Dictionary<string, double> { ["map"] = 0.40, ["ap50"] = 0.70, ["ap75"] = 0.42 }] },
            new ComparisonRow("det_scene_student", "fgd", [0.30, 0.32], 20, 9)
            {
                FinalMetrics = [new Dictionary<string, double> { ["map"] = 0.30, ["ap50"] = 0.60, ["ap75"] = 0.31 }, new Dictionary<string, double> { ["map"] = 0.32, ["ap50"] = 0.62, ["ap75"] = 0.33 }],
            },
        };
        var output = new StringWriter();
        var console = ModelCommands.ConsoleFor(output);
        console.Profile.Width = 200;
        // The title holds "[.5:.95]", which Spectre would read as a style: it must print as written.
        console.Write(QuickstartCommand.ResultsTable("detection-scenes", detection: true, rows, "mAP"));
        var text = output.ToString();
        Assert.Contains("Detection scene set test mAP (COCO AP@[.5:.95])", text, StringComparison.Ordinal);
        var lines = text.Split('\n');
        Assert.Single(lines, l => Cells(l) is ["model", "training", "final mAP", "AP50", "AP75", "seeds", "time"]);
        Assert.Single(lines, l => Cells(l) is ["det_scene_teacher", "teacher", "40.00 %", "70.00 %", "42.00 %", "1", "10 s"]);
        Assert.Single(lines, l => Cells(l) is ["det_scene_student", "fgd", "31.00 % ± 1.41", "61.00 % ± 1.41", "32.00 % ± 1.41", "2", "20 s"]);
    }

    [Fact]
    public void SegmentationTable_HasNoApColumns()
    {
        var output = new StringWriter();
        ModelCommands.ConsoleFor(output).Write(QuickstartCommand.ResultsTable("scenes", detection: false, [new ComparisonRow("scene_student", "alone", [0.25], 3, 4)], "mIoU"));
        Assert.DoesNotContain("AP50", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("Scene set test mIoU", output.ToString(), StringComparison.Ordinal);
    }

    private static string[] Cells(string line) =>
        [.. line.Split(['│', '|'], StringSplitOptions.TrimEntries).Where(c => c.Length > 0 && c.Any(char.IsLetterOrDigit))];
}
