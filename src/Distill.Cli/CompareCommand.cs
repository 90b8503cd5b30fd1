using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Distill.Configs;
using Distill.Engine;
using Distill.NN.Data;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>
/// `distill compare`: one recipe, several methods, several seeds: trains each, then tabulates the final
/// test top-1 (mean ± sample std over seeds) and the training throughput against plain KD.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var command = new Command("compare", "Train one recipe with several methods and seeds; tabulate final accuracy (mean +/- std) and step time against kd.");
        var config = new Option<FileInfo>("--config") { Description = "The YAML recipe (data, student, teacher, train); its method section is replaced per run.", Required = true };
        var methods = new Option<string>("--methods")
        {
            Description = "Comma-separated methods, each optionally with options after a colon, separated by semicolons: none,kd,kd:logit_standardization=true;temperature=2;kd_weight=9,ctkd:base=dkd",
            DefaultValueFactory = _ => "none,kd",
        };
        var seeds = new Option<int>("--seeds") { Description = "Runs per method (train.seed 0, 1, ...).", DefaultValueFactory = _ => 3 };
        var set = new Option<string[]>("--set") { Description = "Override a recipe key for every run, e.g. --set train.epochs=1 (repeatable)." };
        var output = new Option<string?>("--output") { Description = "Folder for the runs and results.md / results.json (default: runs/compare-<time>)." };
        var device = DeviceOption.Create(recipeKey: true);
        foreach (var o in new Option[] { config, methods, seeds, set, output, device })
        {
            command.Options.Add(o);
        }

        CliChecks.AtLeast(seeds, 1);
        command.SetAction(r => Run(r.GetValue(config)!.FullName, MethodList.Parse("--methods", r.GetValue(methods)!), r.GetValue(seeds),
            [.. r.GetValue(set) ?? [], .. r.GetValue(device) is { } d ? [$"train.device={d}"] : Array.Empty<string>()],
            r.GetValue(output) ?? Path.Combine("runs", $"compare-{DateTime.Now:yyyyMMdd-HHmmss}")));
        return command;
    }

    private static int Run(string recipe, List<(string Label, string Name, string[] Options)> methods, int seeds, string[] sets, string output)
    {
        CliChecks.OutputFolder("--output", output);

        // Validate every method's options before the first (long) run starts.
        var configs = methods.Select(m => Enumerable.Range(0, seeds).Select(seed => Recipes.Load(recipe,
        [
            .. sets, $"method.name={m.Name}", .. m.Options.Select(o => "method." + o), $"train.seed={seed}",
            $"output={Path.Combine(output, Slug(m.Label), $"seed{seed}")}",
        ])).ToArray()).ToArray();
        var rows = new List<Row>();
        var series = new List<ReportWriter.Series>();
        for (var i = 0; i < methods.Count; i++)
        {
            var finals = new List<double>();
            var speeds = new List<double>();
            foreach (var run in configs[i])
            {
                var summary = TrainingDisplay.Run($"{methods[i].Label} seed {run.Train.Seed}", run.Train.Epochs, 0,
                    (progress, onEpoch) => TrainingRun.Execute(run, resume: false, progress, onEpoch));
                finals.Add(summary.Epochs[^1].TestAccuracy);
                speeds.AddRange(summary.Epochs.Select(e => e.ImagesPerSecond));
                series.Add(new ReportWriter.Series($"{methods[i].Label} seed {run.Train.Seed}", summary.Epochs));
            }

            rows.Add(new Row(methods[i].Label, finals, speeds.Average()));
        }

        var kd = rows.FirstOrDefault(r => r.Label == "kd");
        var table = new Table().AddColumns("method", "final test top-1 (mean ± std)", "runs", "train images/s", "step time vs kd");
        var markdown = new StringBuilder($"| method | final test top-1 (mean ± std) | runs | train images/s | step time vs kd |\n|---|---|---|---|---|\n");
        foreach (var row in rows)
        {
            var (mean, std) = ReportWriter.MeanStd(row.Finals);
            var accuracy = $"{mean * 100:F2} ± {std * 100:F2} %";
            var overhead = kd is null ? "-" : $"{(kd.ImagesPerSecond / row.ImagesPerSecond - 1) * 100:+0;-0} %";
            var speed = row.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture);
            table.AddRow(Markup.Escape(row.Label), accuracy, row.Finals.Count.ToString(CultureInfo.InvariantCulture), speed, overhead);
            markdown.Append(CultureInfo.InvariantCulture, $"| {row.Label} | {accuracy} | {row.Finals.Count} | {speed} | {overhead} |\n");
        }

        AnsiConsole.Write(table);
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "results.md"), markdown.ToString());
        ReportWriter.Write(Path.Combine(output, "report.html"), $"Distill compare: {configs[0][0].Student.Model} on {configs[0][0].Data.Dataset}", series,
            rows.Select(r => new ReportWriter.ResultRow(configs[0][0].Student.Model, r.Label, r.Finals)).ToArray());
        File.WriteAllText(Path.Combine(output, "results.json"), JsonSerializer.Serialize(rows.Select(r => new { method = r.Label, final_accuracies = r.Finals, images_per_second = r.ImagesPerSecond }), RunLogJson.Options));
        AnsiConsole.MarkupLine(Markup.Escape($"results in {Path.Combine(output, "results.md")} and report.html (final = last epoch's test top-1; step time from training images/s, loader included)"));
        return 0;
    }

    private static string Slug(string label) => new(label.Select(c => char.IsLetterOrDigit(c) || c is '+' or '-' ? c : '_').ToArray());

    private sealed record Row(string Label, IReadOnlyList<double> Finals, double ImagesPerSecond);
}
