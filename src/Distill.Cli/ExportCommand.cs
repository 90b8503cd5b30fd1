using System.CommandLine;
using Distill.Configs;
using Distill.Engine;
using Distill.Export;
using Distill.Models;
using Distill.NN;
using Distill.NN.Checkpoints;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Cli;

/// <summary>
/// `distill export`: a trained model (a run folder's best.safetensors, or a .safetensors with --model) to an ONNX file,
/// opset 17, input "input" [batch, C, H, W] with a dynamic batch, output "logits"; batch norms kept or folded.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var command = new Command("export", "Export a trained model to ONNX (opset 17, input \"input\" with a dynamic batch, output \"logits\").");
        var checkpoint = new Option<string>("--checkpoint") { Description = "A run folder (its config.yaml names the model, best.safetensors holds it) or a .safetensors state dict or training checkpoint.", Required = true };
        var model = new Option<string?>("--model") { Description = "A name from `distill models` (read from the run's config.yaml when --checkpoint is a run folder)." };
        var output = new Option<FileInfo>("--out") { Description = "The ONNX file to write.", Required = true };
        var opset = new Option<int>("--opset") { Description = "The ONNX opset (17 is the one written).", DefaultValueFactory = _ => 17 };
        var fold = new Option<bool>("--fold-bn") { Description = "Fold each batch norm that follows a convolution into it (the others stay BatchNormalization nodes)." };
        var input = new Option<string?>("--input") { Description = "The input CxHxW the graph is made for (the batch stays free; a detector's graph takes any height and width); default: channels from the checkpoint's first convolution, 32x32." };
        var classes = new Option<int?>("--classes") { Description = "Model outputs; default: from the checkpoint's classifier (a segmentation network's last 1x1 conv, a detector's class-logit conv)." };
        foreach (var o in new Option[] { checkpoint, model, output, opset, fold, input, classes })
        {
            command.Options.Add(o);
        }

        opset.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() != 17)
            {
                r.AddError($"--opset {r.GetValueOrDefault<int>()}: only opset 17 is written");
            }
        });
        input.Validators.Add(r =>
        {
            var text = r.GetValueOrDefault<string?>();
            if (!ModelCommands.TryParseInput(text, out _))
            {
                r.AddError($"--input '{text}' is not CxHxW with positive sizes, e.g. 3x32x32");
            }
        });

        command.SetAction(r =>
        {
            var (modelName, statePath) = Resolve(r.GetValue(checkpoint)!, r.GetValue(model));
            var outPath = r.GetValue(output)!.FullName;
            using var scope = DisposeScope.Enter();
            using var file = SafeTensors.Load(statePath);
            var state = TrainingCheckpoint.ModelState(file);
            var task = TrainingTasks.OwnerOf(modelName)!;
            int? c = null;
            var (h, w) = (32, 32);
            if (r.GetValue(input) is { } text)
            {
                ModelCommands.TryParseInput(text, out var size);
                (c, h, w) = size;
            }

            int inferredClasses;
            int inferredChannels;
            using (var probe = task.CreateModel(modelName, new ModelOptions(1, c ?? 3, h, w)))
            {
                (inferredClasses, inferredChannels) = Infer(probe, state);
            }

            var options = new ModelOptions(r.GetValue(classes) ?? inferredClasses, c ?? inferredChannels, h, w);
            using var net = NewModel(task, modelName, options);
            CheckpointMismatch.Load(net, state, statePath, "--model", modelName);
            try
            {
                OnnxExporter.Export(net, [options.InChannels, h, w], outPath, new OnnxExportOptions { FoldBatchNorm = r.GetValue(fold) });
            }
            catch (OnnxExportException e)
            {
                throw new ConfigException($"--model {modelName}: {e.Message}", e);
            }

            var declared = net is Distill.Models.Detection.FcosDetector ? "height, width" : $"{h}, {w}";
            r.InvocationConfiguration.Output.WriteLine($"wrote {outPath} ({modelName}, input [batch, {options.InChannels}, {declared}], batch norms {(r.GetValue(fold) ? "folded" : "kept")})");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The model's name and the state dict's path, from a run folder or a file.</summary>
    private static (string Model, string StatePath) Resolve(string checkpoint, string? model)
    {
        if (Directory.Exists(checkpoint))
        {
            var config = Path.Combine(checkpoint, "config.yaml");
            var best = Path.Combine(checkpoint, "best.safetensors");
            CliChecks.ExistingFile("--checkpoint", config);
            CliChecks.ExistingFile("--checkpoint", best);
            var fromRun = Recipes.Parse(File.ReadAllText(config), config).Student.Model;
            if (model is not null && model != fromRun)
            {
                throw new ConfigException($"--model {model}: the run {checkpoint} trained {fromRun} (leave --model out for a run folder)");
            }

            return (CliChecks.Model("student.model of " + config, fromRun), best);
        }

        var path = CliChecks.ExistingFile("--checkpoint", checkpoint);
        return model is null
            ? throw new ConfigException($"--checkpoint {checkpoint} is a file: give --model (a name from `distill models`)")
            : (CliChecks.Model("--model", model), path);
    }

    /// <summary>The classifier's outputs and the first convolution's input channels, read from the checkpoint's shapes.</summary>
    private static (int Classes, int Channels) Infer(Module probe, IReadOnlyDictionary<string, Tensor> state)
    {
        var paths = probe.NamedModules().ToList();
        var classes = 1;
        var headPath = probe switch
        {
            ClassificationModel classifier => paths.First(p => ReferenceEquals(p.Module, classifier.Head)).Path,
            TappedModel<Tensor> tapped => tapped.Taps.FirstOrDefault(t => t.Name == "logits")?.ModulePath
                ?? tapped.Heads.FirstOrDefault(h => h.Name == "classifier")?.ModulePath,
            _ => null,
        };
        if (headPath is not null && state.TryGetValue(headPath + ".weight", out var weight))
        {
            classes = (int)weight.Size(0);
        }

        var channels = 3;
        if (paths.Select(p => (p.Path, Conv: p.Module as Conv2d)).FirstOrDefault(p => p.Conv is not null) is { Conv: not null } first
            && state.TryGetValue(first.Path + ".weight", out var convWeight))
        {
            channels = (int)(convWeight.Size(1) * first.Conv.Groups);
        }

        return (classes, channels);
    }

    private static TappedModel<Tensor> NewModel(ITrainingTask task, string name, ModelOptions options)
    {
        try
        {
            return task.CreateModel(name, options);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"--model {name} on {options.InputSize}: {e.Message}", e);
        }
    }
}
