using Xunit;

namespace Distill.Cli.Tests;

/// <summary>`distill inspect`: published taps, heads and, with --modules, every tappable module path.</summary>
public sealed class InspectCommandTests
{
    [Fact]
    public void Inspect_ListsTapsAndHeads_AndWithModules_EveryTappableModulePathWithItsShape()
    {
        var (code, output, error) = Run(["inspect", "resnet8", "--input", "3x16x16"]);
        Assert.True(code == 0, error);
        Assert.Contains("stage2.preact", output, StringComparison.Ordinal);
        Assert.Contains("Heads: classifier (fc)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("layer2.0.conv1", output, StringComparison.Ordinal);

        (code, output, error) = Run(["inspect", "resnet8", "--input", "3x16x16", "--modules"]);
        Assert.True(code == 0, error);
        var line = Assert.Single(output.Split('\n'), l => l.Contains(" layer2.0.conv1 ", StringComparison.Ordinal));
        Assert.Contains("Conv2d", line, StringComparison.Ordinal);
        Assert.Contains("[1, 32, 8, 8]", line, StringComparison.Ordinal);
    }

    private static (int Code, string Output, string Error) Run(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliRunner.Run(args, output, error, _ => null);
        return (code, output.ToString(), error.ToString());
    }
}
