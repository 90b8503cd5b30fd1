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

    [Fact]
    public void Inspect_ANonSquareInput_BuildsTheModelForThatSize_AndASizeTheModelCannotTake_IsOneBadInputError()
    {
        var (code, output, error) = Run(["inspect", "vit_tiny", "--input", "3x24x40"]);
        Assert.True(code == 0, error);
        Assert.Contains("vit_tiny on 3x24x40", output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n'), l => l.Contains(" stem ", StringComparison.Ordinal) && l.Contains("[1, 192, 6, 10]", StringComparison.Ordinal));

        (code, _, error) = Run(["inspect", "vit_tiny", "--input", "3x30x40"]);
        Assert.Equal(2, code);
        Assert.Equal("error: --input 3x30x40: vit_tiny on 3x30x40 inputs: ViT needs the input height and width (30x40) to be multiples of the patch size (4) and depth >= 4 (got 8)", error.Trim());
    }

    private static (int Code, string Output, string Error) Run(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliRunner.Run(args, output, error, _ => null);
        return (code, output.ToString(), error.ToString());
    }
}
