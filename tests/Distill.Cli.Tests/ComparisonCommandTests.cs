using System.Text.Json;
using Distill.Testing;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>`distill quickstart` and `distill compare` through the one comparison pipeline: the result files keep their shapes.</summary>
[Collection(LiveConsoleCollection.Name)]
public sealed class ComparisonCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-comparison-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void QuickstartThenCompare_OnATinySubset_WriteTheirTablesAndResultsJsonInTheirShapes()
    {
        TinyIdx.Write(_directory, 48, 16);
        var output = Path.Combine(_directory, "runs");
        string[] data = ["--set", "data.dataset=idx", "--set", $"data.root={_directory}"];
        var error = new StringWriter();
        var code = CliRunner.Run(["quickstart", "--fast", "--legacy-schedule", "--seeds", "2", "--output", output, .. data], new StringWriter(), error, _ => null);
        Assert.True(code == 0, error.ToString());
        var folder = Assert.Single(Directory.GetDirectories(output, "quickstart-*"));
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json"))))
        {
            var root = json.RootElement;
            Assert.Equal(["settings", "rows", "series"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["Epochs", "TeacherEpochs", "Fast", "Seed", "Seeds", "Teacher", "Student", "Output", "Methods", "Device", "SoftLabels"],
                root.GetProperty("settings").EnumerateObject().Select(p => p.Name));
            Assert.Equal(1, root.GetProperty("settings").GetProperty("Epochs").GetInt32());
            var rows = root.GetProperty("rows").EnumerateArray().ToArray();
            Assert.Equal(["teacher", "alone", "kd"], rows.Select(r => r.GetProperty("Method").GetString()));
            Assert.Equal(["Model", "Method", "Finals", "Seconds"], rows[0].EnumerateObject().Select(p => p.Name));
            Assert.Equal([1, 2, 2], rows.Select(r => r.GetProperty("Finals").GetArrayLength()));
            Assert.Equal(["resnet20 teacher", "resnet8 alone seed 0", "resnet8 alone seed 1", "resnet8 kd seed 0", "resnet8 kd seed 1"],
                root.GetProperty("series").EnumerateArray().Select(s => s.GetProperty("Label").GetString()));
        }

        Assert.True(File.Exists(Path.Combine(folder, "report.html")));
        Assert.True(File.Exists(Path.Combine(folder, "kd", "seed1", "config.yaml")));
        var teacher = Assert.Single(Directory.GetFiles(Path.Combine(output, "cache"), "teacher-*.safetensors"));

        // compare: one recipe, methods x seeds, with the quickstart's cached teacher.
        var recipe = Path.Combine(_directory, "recipe.yaml");
        File.WriteAllText(recipe, TinyIdx.Recipe(_directory, $"teacher:\n  model: resnet20\n  checkpoint: {teacher}\ntrain:\n  epochs: 1\n  schedule: cosine\n"));
        var compared = Path.Combine(_directory, "compare");
        code = CliRunner.Run(["compare", "--config", recipe, "--methods", "none,kd:temperature=2", "--seeds", "2", "--output", compared], new StringWriter(), error, _ => null);
        Assert.True(code == 0, error.ToString());
        var markdown = File.ReadAllLines(Path.Combine(compared, "results.md"));
        Assert.Equal("| method | final test top-1 (mean ± std) | runs | train images/s | step time vs kd |", markdown[0]);
        Assert.Equal("|---|---|---|---|---|", markdown[1]);
        Assert.StartsWith("| none | ", markdown[2], StringComparison.Ordinal);
        Assert.StartsWith("| kd:temperature=2 | ", markdown[3], StringComparison.Ordinal);
        Assert.EndsWith(" | 2 | " + markdown[2].Split(" | ")[3] + " | - |", markdown[2], StringComparison.Ordinal);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(compared, "results.json"))))
        {
            var rows = json.RootElement.EnumerateArray().ToArray();
            Assert.Equal(["none", "kd:temperature=2"], rows.Select(r => r.GetProperty("method").GetString()));
            Assert.Equal(["method", "final_accuracies", "images_per_second"], rows[0].EnumerateObject().Select(p => p.Name));
            Assert.All(rows, r => Assert.Equal(2, r.GetProperty("final_accuracies").GetArrayLength()));
        }

        Assert.True(File.Exists(Path.Combine(compared, "kd_temperature_2", "seed1", "last.safetensors")));

        // A second quickstart finds the teacher in the cache.
        code = CliRunner.Run(["quickstart", "--fast", "--legacy-schedule", "--methods", "kd", "--output", output, .. data], new StringWriter(), error, _ => null);
        Assert.True(code == 0, error.ToString());
        var second = Directory.GetDirectories(output, "quickstart-*").Single(f => f != folder);
        using var again = JsonDocument.Parse(File.ReadAllText(Path.Combine(second, "results.json")));
        Assert.Equal("teacher (cached)", again.RootElement.GetProperty("rows")[0].GetProperty("Method").GetString());
    }

    [Fact]
    public void Quickstart_BadMethodOption_NamesTheMethodsFlag()
    {
        var error = new StringWriter();
        var code = CliRunner.Run(["quickstart", "--methods", "kd:temperature=hot", "--output", Path.Combine(_directory, "runs")], new StringWriter(), error, _ => null);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --methods: override --set method.temperature=hot: method.temperature is 'hot'", error.ToString(), StringComparison.Ordinal);
    }
}
