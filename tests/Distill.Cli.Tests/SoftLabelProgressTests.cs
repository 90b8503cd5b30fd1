using Xunit;

namespace Distill.Cli.Tests;

/// <summary>The soft-label store's build progress when the output is not a terminal.</summary>
public sealed class SoftLabelProgressTests
{
    [Fact]
    public void OffATerminal_PrintsPlainLinesPerTenth_AndAlwaysTheFinishedOne()
    {
        var output = new StringWriter();
        var result = SoftLabelProgress.Run(ModelCommands.ConsoleFor(output), "soft labels x2", progress =>
        {
            foreach (var done in new[] { 2048, 4096, 6000 })
            {
                progress.Report((done, 6000));
            }

            return "store";
        });
        Assert.Equal("store", result);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["soft labels x2: 2,048/6,000 images (34 %)", "soft labels x2: 4,096/6,000 images (68 %)", "soft labels x2: 6,000/6,000 images (100 %)"], lines);
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void OffATerminal_AResumedBuildReportingTheSameTenthTwice_PrintsItOnce_AndStillEndsAt100Percent()
    {
        var output = new StringWriter();
        SoftLabelProgress.Run(ModelCommands.ConsoleFor(output), "s", progress =>
        {
            foreach (var done in new[] { 10, 11, 12, 100 })
            {
                progress.Report((done, 100));
            }

            return 0;
        });
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["s: 10/100 images (10 %)", "s: 100/100 images (100 %)"], lines);
    }
}
