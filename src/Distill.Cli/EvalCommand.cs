using System.CommandLine;
using System.Globalization;
using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Torch;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>
/// `distill eval`: a saved model's metrics on a test set through the one evaluator: classification's top-1, top-5 and
/// per-class accuracy, or, for a test set labelled with masks, segmentation's mIoU, pixel accuracy and per-class IoU.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a saved model on a test set: top-1, top-5 and per-class accuracy, or for a segmenter mIoU, pixel accuracy and per-class IoU.");
        var model = new Option<string>("--model") { Description = "A name from `distill models`.", Required = true };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A state dict (best.safetensors) or a training checkpoint (last.safetensors).", Required = true };
        var dataset = new Option<string>("--dataset") { Description = $"{string.Join(", ", DatasetCatalog.Names)} (as a recipe's data.dataset).", DefaultValueFactory = _ => "fashion-mnist" };
        var root = new Option<string?>("--root") { Description = "The data set's folder (defaults per data set)." };
        var preset = new Option<string>("--preset")
        {
            Description = "A segmentation-folder's layout, as a recipe's data.preset (its test split: val, ade20k: validation).",
            DefaultValueFactory = _ => "custom",
        };
        preset.AcceptOnlyFromAmong([.. Distill.NN.Data.Segmentation.SegmentationFolderOptions.Layouts]);
        var device = DeviceOption.Create();
        foreach (var o in new Option[] { model, checkpoint, dataset, root, preset, device })
        {
            command.Options.Add(o);
        }

        command.SetAction(r =>
        {
            var modelName = CliChecks.Model("--model", r.GetValue(model)!);
            var path = CliChecks.ExistingFile("--checkpoint", r.GetValue(checkpoint)!.FullName);
            var on = RunDevice.Resolve(r.GetValue(device) ?? "cpu", "--device");
            var loaders = DatasetFactory.Create(new DataConfig { Dataset = r.GetValue(dataset)!, Root = r.GetValue(root), Preset = r.GetValue(preset)!, BatchSize = 256, Augment = false }, 0, on);
            using var scope = DisposeScope.Enter();
            var task = TrainingTasks.OwnerOf(modelName)!;
            using var net = TrainingRun.NewModel(task, "--model", modelName, loaders.ModelOptions);
            using var file = SafeTensors.Load(path);
            net.To(on);
            CheckpointMismatch.Load(net, TrainingCheckpoint.ModelState(file), path, "--model", modelName);
            var test = loaders.Test.Dataset;
            var masks = test.Count > 0 && test.Get(0).Target is Mask;
            if (masks != task is SegmentationTask)
            {
                throw new ConfigException($"--model {modelName} is a {task.Name} model, but --dataset {r.GetValue(dataset)} is labelled with {(masks ? "masks (segmentation)" : "classes (classification)")}");
            }

            var evaluation = Evaluator.Evaluate(net, loaders.Test, task, breakdown: true);
            var console = ModelCommands.ConsoleFor(r.InvocationConfiguration.Output);
            var header = $"{r.GetValue(model)} on {r.GetValue(dataset)} ({evaluation.Samples} images)";
            if (masks)
            {
                PrintSegmentation(console, header, evaluation, test.Classes);
            }
            else
            {
                PrintClassification(console, header, task, evaluation);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The header with top-1 and top-5, then a table of each class's accuracy.</summary>
    internal static void PrintClassification(IAnsiConsole console, string header, ITrainingTask task, TaskEvaluation evaluation)
    {
        console.MarkupLine(Markup.Escape($"{header}: {task.Describe(evaluation)}"));
        var table = new Table().AddColumns("class", "accuracy");
        var perClass = evaluation.Breakdown;
        for (var c = 0; c < perClass.Count; c++)
        {
            table.AddRow(c.ToString(CultureInfo.InvariantCulture), perClass[c].ToString("P2", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }

    /// <summary>
    /// The header with mIoU and pixel accuracy (and over how many classes the mean ran), then a table of each class's
    /// index, name and IoU; "—" for a class absent from both ground truth and prediction (it does not enter the mIoU).
    /// </summary>
    /// <param name="console">Where to print.</param>
    /// <param name="header">E.g. "pspnet_resnet18_scenes on scenes (2000 images)".</param>
    /// <param name="evaluation">The segmentation task's evaluation with its per-class breakdown.</param>
    /// <param name="classNames">The class names in label order (a class past their end prints without a name).</param>
    internal static void PrintSegmentation(IAnsiConsole console, string header, TaskEvaluation evaluation, IReadOnlyList<string> classNames)
    {
        var perClass = evaluation.Breakdown;
        var used = evaluation.Metrics.TryGetValue(SegmentationTask.ClassesUsed, out var n) ? (int)n : perClass.Count(double.IsFinite);
        var over = perClass.Count > 0 ? $" (mean over the {used} of {perClass.Count} classes present)" : string.Empty;
        console.MarkupLine(Markup.Escape($"{header}: {SegmentationTask.Default.Describe(evaluation)}{over}"));
        var table = new Table().AddColumns("class", "name", "IoU");
        table.Columns[2].RightAligned();
        for (var c = 0; c < perClass.Count; c++)
        {
            var iou = double.IsFinite(perClass[c]) ? perClass[c].ToString("P2", CultureInfo.InvariantCulture).Replace(" %", "%", StringComparison.Ordinal) : "—";
            table.AddRow(c.ToString(CultureInfo.InvariantCulture), Markup.Escape(c < classNames.Count ? classNames[c] : string.Empty), iou);
        }

        console.Write(table);
    }
}
