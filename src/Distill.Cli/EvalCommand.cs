using System.CommandLine;
using System.Globalization;
using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Tasks;
using Distill.Torch;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>`distill eval`: the classification task's metrics (top-1, top-5) and per-class accuracy of a saved model, through the one evaluator.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a saved model on a test set: top-1, top-5 and per-class accuracy.");
        var model = new Option<string>("--model") { Description = "A name from `distill models`.", Required = true };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A state dict (best.safetensors) or a training checkpoint (last.safetensors).", Required = true };
        var dataset = new Option<string>("--dataset") { Description = $"{string.Join(", ", DatasetCatalog.Names)} (as a recipe's data.dataset).", DefaultValueFactory = _ => "fashion-mnist" };
        var root = new Option<string?>("--root") { Description = "The data set's folder (defaults per data set)." };
        var device = DeviceOption.Create();
        foreach (var o in new Option[] { model, checkpoint, dataset, root, device })
        {
            command.Options.Add(o);
        }

        command.SetAction(r =>
        {
            var modelName = CliChecks.Model("--model", r.GetValue(model)!);
            var path = CliChecks.ExistingFile("--checkpoint", r.GetValue(checkpoint)!.FullName);
            var on = RunDevice.Resolve(r.GetValue(device) ?? "cpu", "--device");
            var loaders = DatasetFactory.Create(new DataConfig { Dataset = r.GetValue(dataset)!, Root = r.GetValue(root), BatchSize = 256, Augment = false }, 0, on);
            using var scope = DisposeScope.Enter();
            var task = TrainingTasks.OwnerOf(modelName)!;
            using var net = TrainingRun.NewModel(task, "--model", modelName, loaders.ModelOptions);
            using var file = SafeTensors.Load(path);
            net.To(on);
            CheckpointMismatch.Load(net, TrainingCheckpoint.ModelState(file), path, "--model", modelName);
            var evaluation = Evaluator.Evaluate(net, loaders.Test, task, breakdown: true);
            AnsiConsole.MarkupLine(Markup.Escape($"{r.GetValue(model)} on {r.GetValue(dataset)} ({evaluation.Samples} images): {task.Describe(evaluation)}"));
            var table = new Table().AddColumns("class", "accuracy");
            var perClass = evaluation.Breakdown;
            for (var c = 0; c < perClass.Count; c++)
            {
                table.AddRow(c.ToString(CultureInfo.InvariantCulture), perClass[c].ToString("P2", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
