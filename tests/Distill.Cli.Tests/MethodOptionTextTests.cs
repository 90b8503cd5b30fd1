using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// A method option given as text is read by one reader whichever way it arrives: a recipe override
/// (--set method.x=...), a train_kd.py-style flag, an entry of compare's or quickstart's --methods, or check's --set.
/// </summary>
public sealed class MethodOptionTextTests : IDisposable
{
    private const string Message = "override --set method.temperature=abc: method.temperature is 'abc'; expected a finite number >= 1E-09";

    private readonly string _directory = Directory.CreateTempSubdirectory("distill-option-text-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void BadOptionValue_GivesTheSameMessage_ThroughEveryCommandThatTakesOptionText()
    {
        var recipe = Path.Combine(_directory, "recipe.yaml");
        File.WriteAllText(recipe, "student:\n  model: resnet8\n");
        var output = Path.Combine(_directory, "runs");
        string[][] invocations =
        [
            ["train", "--config", recipe, "--set", "method.name=kd", "--set", "method.temperature=abc"],
            ["train", "--config", recipe, "--method", "kd", "--temperature", "abc"],
            ["compare", "--config", recipe, "--methods", "kd:temperature=abc", "--output", output],
            ["quickstart", "--methods", "kd:temperature=abc", "--output", output],
            ["check", "--method", "kd", "--describe", "--set", "temperature=abc"],
        ];
        foreach (var args in invocations)
        {
            var error = new StringWriter();
            Assert.Equal(2, CliRunner.Run(args, new StringWriter(), error, _ => null));
            Assert.Contains(Message, error.ToString(), StringComparison.Ordinal);
        }
    }
}
