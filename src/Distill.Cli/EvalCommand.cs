using System.CommandLine;
using System.Globalization;
using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Torch;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>
/// `distill eval`: a saved model's metrics on a test set through the one evaluator: classification's top-1, top-5 and
/// per-class accuracy, for a test set labelled with masks segmentation's mIoU, pixel accuracy and per-class IoU, or for one
/// labelled with boxes detection's 12 COCO numbers and per-category AP.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a saved model on a test set: top-1, top-5 and per-class accuracy, for a segmenter mIoU, pixel accuracy and per-class IoU, for a detector COCO mAP, AP50, AP75, APs/m/l, AR and per-category AP.");
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
        var imageSize = new Option<int>("--image-size")
        {
            Description = "Resize every test image (and its boxes or mask) to this height and width first, as a recipe's data.image_size (required for coco and voc-detection; 0: keep).",
            DefaultValueFactory = _ => 0,
        };
        CliChecks.AtLeast(imageSize, 0);
        var device = DeviceOption.Create();
        foreach (var o in new Option[] { model, checkpoint, dataset, root, preset, imageSize, device })
        {
            command.Options.Add(o);
        }

        command.SetAction(r =>
        {
            var modelName = CliChecks.Model("--model", r.GetValue(model)!);
            var path = CliChecks.ExistingFile("--checkpoint", r.GetValue(checkpoint)!.FullName);
            var on = RunDevice.Resolve(r.GetValue(device) ?? "cpu", "--device");
            var size = r.GetValue(imageSize);
            var loaders = DatasetFactory.Create(new DataConfig
            {
                Dataset = r.GetValue(dataset)!, Root = r.GetValue(root), Preset = r.GetValue(preset)!, BatchSize = 256, Augment = false, ImageSize = size,
                // Full-size detection images: a few per batch.
                TestBatchSize = size > 256 ? 8 : 0,
            }, 0, on);
            using var scope = DisposeScope.Enter();
            var task = TrainingTasks.OwnerOf(modelName)!;
            var test = loaders.Test.Dataset;
            // The model's task against the test set's labels, before any weights are read.
            var target = test.Count > 0 ? test.Get(0).Target : null;
            var labelled = target switch
            {
                Mask => SegmentationTask.Default.Name,
                Boxes => DetectionTask.Default.Name,
                _ => ClassificationTask.Default.Name,
            };
            if (labelled != task.Name)
            {
                var what = target switch
                {
                    Mask => "masks (segmentation)",
                    Boxes => "boxes (detection)",
                    _ => "classes (classification)",
                };
                throw new ConfigException($"--model {modelName} is a {task.Name} model, but --dataset {r.GetValue(dataset)} is labelled with {what}");
            }

            using var net = TrainingRun.NewModel(task, "--model", modelName, loaders.ModelOptions);
            using var file = SafeTensors.Load(path);
            net.To(on);
            CheckpointMismatch.Load(net, TrainingCheckpoint.ModelState(file), path, "--model", modelName);
            var evaluation = Evaluator.Evaluate(net, loaders.Test, task, breakdown: true);
            var console = ModelCommands.ConsoleFor(r.InvocationConfiguration.Output);
            var header = $"{r.GetValue(model)} on {r.GetValue(dataset)} ({evaluation.Samples} images)";
            if (target is Mask)
            {
                PrintSegmentation(console, header, evaluation, test.Classes);
            }
            else if (target is Boxes)
            {
                PrintDetection(console, header, evaluation, test.Classes);
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
    /// The header with mAP, AP50 and AP75, a table of COCO's 12 numbers (AP over IoU 0.50:0.95, at 0.50 and 0.75, by
    /// object area, and AR at 1, 10 and 100 detections and by area), then a table of each category's index, name and
    /// AP@[.5:.95]; "—" for a category without ground truth (it does not enter the mAP) or a number COCO reports as -1.
    /// </summary>
    /// <param name="console">Where to print.</param>
    /// <param name="header">E.g. "det_scene_student on detection-scenes (2000 images)".</param>
    /// <param name="evaluation">The detection task's evaluation with its per-category breakdown.</param>
    /// <param name="classNames">The category names in label order (a category past their end prints without a name).</param>
    internal static void PrintDetection(IAnsiConsole console, string header, TaskEvaluation evaluation, IReadOnlyList<string> classNames)
    {
        console.MarkupLine(Markup.Escape($"{header}: {DetectionTask.Default.Describe(evaluation)}"));
        string[] labels =
        [
            "AP @[IoU=0.50:0.95, all, maxDets=100]", "AP @[IoU=0.50, all, maxDets=100]", "AP @[IoU=0.75, all, maxDets=100]",
            "AP @[IoU=0.50:0.95, small, maxDets=100]", "AP @[IoU=0.50:0.95, medium, maxDets=100]", "AP @[IoU=0.50:0.95, large, maxDets=100]",
            "AR @[IoU=0.50:0.95, all, maxDets=1]", "AR @[IoU=0.50:0.95, all, maxDets=10]", "AR @[IoU=0.50:0.95, all, maxDets=100]",
            "AR @[IoU=0.50:0.95, small, maxDets=100]", "AR @[IoU=0.50:0.95, medium, maxDets=100]", "AR @[IoU=0.50:0.95, large, maxDets=100]",
        ];
        var summary = new Table().AddColumns("metric", "key", "value");
        summary.Columns[2].RightAligned();
        for (var i = 0; i < DetectionTask.MetricKeys.Count; i++)
        {
            var key = DetectionTask.MetricKeys[i];
            summary.AddRow(Markup.Escape(labels[i]), key, evaluation.Metrics.TryGetValue(key, out var v) ? Percent(v) : "—");
        }

        console.Write(summary);
        var perCategory = evaluation.Breakdown;
        var table = new Table().AddColumns("category", "name", "AP");
        table.Columns[2].RightAligned();
        for (var c = 0; c < perCategory.Count; c++)
        {
            table.AddRow(c.ToString(CultureInfo.InvariantCulture), Markup.Escape(c < classNames.Count ? classNames[c] : string.Empty), Percent(perCategory[c]));
        }

        console.Write(table);
    }

    /// <summary>A fraction as "41.20%"; "—" for NaN or COCO's -1 (nothing to measure).</summary>
    private static string Percent(double v) =>
        double.IsFinite(v) && v >= 0 ? v.ToString("P2", CultureInfo.InvariantCulture).Replace(" %", "%", StringComparison.Ordinal) : "—";

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
