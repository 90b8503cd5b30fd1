using System.CommandLine;
using System.Globalization;
using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Metrics;
using Distill.Torch;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>`distill eval`: test top-1 and per-class accuracy of a saved model.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a saved model on a test set: top-1, top-5 and per-class accuracy.");
        var model = new Option<string>("--model") { Description = "A name from `distill models`.", Required = true };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A state dict (best.safetensors) or a training checkpoint (last.safetensors).", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "fashion-mnist, idx, cifar10 or cifar100.", DefaultValueFactory = _ => "fashion-mnist" };
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
            using var net = ModelRegistry.Create(modelName, new ModelOptions(loaders.Classes, loaders.Channels, loaders.ImageSize));
            using var file = SafeTensors.Load(path);
            net.To(on);
            CheckpointMismatch.Load(net, TrainingCheckpoint.ModelState(file), path, "--model", modelName);
            net.Eval();
            var confusion = new ConfusionMatrix(loaders.Classes);
            long top5 = 0, total = 0;
            using (Autograd.InferenceMode())
            {
                using var batches = loaders.Test.Epoch(0).GetEnumerator();
                while (true)
                {
                    using var step = DisposeScope.Enter();
                    if (!batches.MoveNext())
                    {
                        break;
                    }

                    var logits = net.Forward(batches.Current.Images);
                    confusion.Update(logits.ArgMax(1), batches.Current.Labels);
                    top5 += Accuracy.TopKCorrect(logits, batches.Current.Labels, Math.Min(5, loaders.Classes));
                    total += batches.Current.Size;
                }
            }

            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{r.GetValue(model)} on {r.GetValue(dataset)} ({total} images): top-1 {confusion.OverallAccuracy:P2}, top-{Math.Min(5, loaders.Classes)} {(double)top5 / total:P2}")));
            var table = new Table().AddColumns("class", "accuracy");
            var perClass = confusion.PerClassAccuracy();
            for (var c = 0; c < perClass.Length; c++)
            {
                table.AddRow(c.ToString(CultureInfo.InvariantCulture), perClass[c].ToString("P2", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
