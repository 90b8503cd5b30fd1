using System.CommandLine;
using Distill.Engine;
using Distill.Engine.Comparison;
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
            r.GetValue(output) ?? ComparisonRun.FreshFolder("runs", "compare", DateTime.Now)));
        return command;
    }

    private static int Run(string recipe, List<(string Label, string Name, string[] Options)> methods, int seeds, string[] sets, string output)
    {
        CliChecks.OutputFolder("--output", output);
        DataParallelEnvironment.UseCoreShare(1);

        // Every method's options are validated before the first (long) run starts.
        var plan = ComparisonRun.Plan(overrides => Recipes.Load(recipe, overrides), sets, [.. methods.Select(m => new ComparisonMethod(m.Label, m.Name, m.Options))],
            [.. Enumerable.Range(0, seeds)], output);
        var result = ComparisonRun.Execute(plan, (label, run, train) =>
            TrainingDisplay.Run($"{label} seed {run.Train.Seed}", run.Train.Epochs, 0, (progress, onEpoch) => train(progress, onEpoch), Distill.Tasks.TrainingTasks.Create(run.Task)));
        var table = new Table().AddColumns([.. ComparisonRun.Header(result.Metric, result.Rows)]);
        foreach (var cells in ComparisonRun.Table(result.Rows))
        {
            table.AddRow([.. cells.Select(Markup.Escape)]);
        }

        AnsiConsole.Write(table);
        var first = plan[0].Runs[0];
        var (markdown, _, _) = ComparisonRun.Write(output, $"Distill compare: {first.Student.Model} on {first.Data.Dataset}", result);
        AnsiConsole.MarkupLine(Markup.Escape($"results in {markdown} and report.html (final = last epoch's test top-1; step time from training images/s, loader included)"));
        return 0;
    }
}
