using System.CommandLine;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>--help of every command against reviewed snapshots (Snapshots/*.txt; a change writes .received).</summary>
public sealed class HelpSnapshotTests
{
    [Theory]
    [InlineData("root", new string[] { "--help" })]
    [InlineData("train", new string[] { "train", "--help" })]
    [InlineData("teacher", new string[] { "teacher", "--help" })]
    [InlineData("quickstart", new string[] { "quickstart", "--help" })]
    [InlineData("inspect", new string[] { "inspect", "--help" })]
    [InlineData("models", new string[] { "models", "--help" })]
    [InlineData("eval", new string[] { "eval", "--help" })]
    [InlineData("export", new string[] { "export", "--help" })]
    [InlineData("check", new string[] { "check", "--help" })]
    [InlineData("compare", new string[] { "compare", "--help" })]
    public void Help_MatchesTheReviewedSnapshot(string name, string[] args)
    {
        var (code, output, _) = Run(args);
        Assert.Equal(0, code);
        var path = Path.Combine(SourceDirectory(), "Snapshots", $"{name}.help.txt");
        var expected = File.Exists(path) ? File.ReadAllText(path) : string.Empty;
        if (output != expected)
        {
            File.WriteAllText(path + ".received", output);
            Assert.Fail($"`distill {string.Join(' ', args)}` changed; review {path}.received and move it over {path} if intended.");
        }
    }

    [Fact]
    public void Version_NamesDistillAndLibTorch()
    {
        var (code, output, _) = Run(["--version"]);
        Assert.Equal(0, code);
        Assert.Matches(@"^distill \d+\.\d+\.\d+ \(libtorch 1\.13\.\d+, shim ABI \d+\)\n$", output.Replace("\r", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public void BadInputOption_IsAParseErrorThatNamesTheValue()
    {
        var (code, _, error) = Run(["inspect", "resnet8", "--input", "3x32"]);
        Assert.NotEqual(0, code);
        Assert.Contains("--input '3x32' is not CxHxW", error, StringComparison.Ordinal);
    }

    private static (int Code, string Output, string Error) Run(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliRunner.Run(args, output, error, _ => null);
        return (code, output.ToString(), error.ToString());
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
