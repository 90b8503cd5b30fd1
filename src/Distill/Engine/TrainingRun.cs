using System.Globalization;
using System.Text;
using System.Text.Json;
using Distill.Configs;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// Runs a recipe in its folder: config.yaml (the resolved recipe), log.jsonl and epochs.csv (one line per
/// epoch: every loss term, accuracies, rate, images/s), steps.jsonl (every 10 steps: each term's running
/// mean, the total, training accuracy, rate, images/s), last.safetensors (everything needed to resume,
/// written atomically after every epoch) and best.safetensors (the best student's state dict).
/// With resume, the run continues from last.safetensors and ends with the same weights as an
/// uninterrupted run of the same recipe. report.html (curves and result) is rewritten after every epoch.
/// </summary>
public static class TrainingRun
{
    /// <summary>What the run produced.</summary>
    /// <param name="Directory">The run folder.</param>
    /// <param name="Epochs">The epochs run now (not those before a resume).</param>
    /// <param name="BestAccuracy">The best test top-1 over all epochs.</param>
    public sealed record Summary(string Directory, IReadOnlyList<EpochResult> Epochs, double BestAccuracy);

    /// <summary>Trains as the recipe says.</summary>
    /// <exception cref="ConfigException">The recipe cannot run (e.g. the teacher checkpoint is missing).</exception>
    public static Summary Execute(RunConfig config, bool resume = false, IProgress<TrainingProgress>? progress = null, Action<EpochResult>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var directory = config.Output;
        Directory.CreateDirectory(directory);
        var lastPath = Path.Combine(directory, "last.safetensors");
        var bestPath = Path.Combine(directory, "best.safetensors");
        var logPath = Path.Combine(directory, "log.jsonl");
        var csvPath = Path.Combine(directory, "epochs.csv");
        var configText = ConfigWriter.ToYaml(config);
        if (!resume && File.Exists(lastPath))
        {
            throw new ConfigException($"{directory} already holds a run (last.safetensors): pass --resume to continue it, or choose another output");
        }

        SafeTensors.WriteAtomically(Path.Combine(directory, "config.yaml"), s => s.Write(Encoding.UTF8.GetBytes(configText)));
        var seed = (ulong)config.Train.Seed;
        var loaders = DatasetFactory.Create(config.Data, seed);
        var options = new ModelOptions(loaders.Classes, loaders.Channels, loaders.ImageSize);
        TorchRuntime.ManualSeed(seed);
        using var student = ModelRegistry.Create(config.Student.Model, options);
        var needsTeacher = MethodFactory.Find(config.Method.Name) is { NeedsTeacher: true };
        using var teacher = !needsTeacher || config.Teacher is null ? null : LoadTeacher(config.Teacher, options);
        using var distiller = config.Method.Name == "none" ? null : MethodFactory.Create(config.Method, MethodContext.FromModels(student, teacher, options,
            Enumerable.Range(0, loaders.Train.Dataset.Count).Select(loaders.Train.Dataset.LabelOf).ToArray()));
        var trainerOptions = new TrainerOptions
        {
            Epochs = config.Train.Epochs,
            LearningRate = config.Train.Lr,
            Momentum = config.Train.Momentum,
            WeightDecay = config.Train.WeightDecay,
            Schedule = config.Train.Schedule,
            Milestones = config.Train.Milestones,
        };
        using var trainer = new Trainer(student, teacher, distiller, trainerOptions);
        var startEpoch = 1;
        var best = 0.0;
        if (resume && File.Exists(lastPath))
        {
            var state = TrainingCheckpoint.Load(lastPath, student, trainer.Optimizer, trainer.Scheduler, distiller, [new NumericEntry("best_accuracy", 0, 1)]);
            startEpoch = state.Epoch + 1;
            best = double.Parse(state.Extra.GetValueOrDefault("best_accuracy", "0"), CultureInfo.InvariantCulture);
        }
        else
        {
            File.WriteAllText(csvPath, "epoch,lr,train_top1,test_top1,images_per_second,seconds,terms\n");
            File.WriteAllText(logPath, string.Empty);
        }

        var stepsPath = Path.Combine(directory, "steps.jsonl");
        if (startEpoch == 1)
        {
            File.WriteAllText(stepsPath, string.Empty);
        }

        // Steps are logged when the trainer reports (every 10 steps and at each epoch's end).
        var stepLog = new ForwardingProgress(p =>
        {
            File.AppendAllText(stepsPath, JsonSerializer.Serialize(p) + "\n");
            progress?.Report(p);
        });
        var results = trainer.Fit(loaders.Train, loaders.Test, stepLog, r =>
        {
            File.AppendAllText(logPath, JsonSerializer.Serialize(r) + "\n");
            File.AppendAllText(csvPath, string.Create(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.LearningRate:R},{r.TrainAccuracy:R},{r.TestAccuracy:R},{r.ImagesPerSecond:F1},{r.Seconds:F2},{string.Join(';', r.LossTerms.Select(t => $"{t.Key}={t.Value:R}"))}\n"));
            if (r.TestAccuracy > best)
            {
                best = r.TestAccuracy;
                using var scope = DisposeScope.Enter();
                SafeTensors.Save(bestPath, student.StateDict(), new Dictionary<string, string> { ["epoch"] = r.Epoch.ToString(CultureInfo.InvariantCulture), ["test_accuracy"] = r.TestAccuracy.ToString("R", CultureInfo.InvariantCulture) });
            }

            TrainingCheckpoint.Save(lastPath, student, trainer.Optimizer, trainer.Scheduler, r.Epoch, configText,
                new Dictionary<string, string> { ["best_accuracy"] = best.ToString("R", CultureInfo.InvariantCulture) }, distiller);
            var history = File.ReadAllLines(logPath).Select(l => JsonSerializer.Deserialize<EpochResult>(l)!).ToArray();
            var label = config.Method.Name == "none" ? $"{config.Student.Model} alone" : teacher is null ? $"{config.Student.Model} {config.Method.Name}" : $"{config.Student.Model} {config.Method.Name} from {config.Teacher!.Model}";
            ReportWriter.Write(Path.Combine(directory, "report.html"), $"Distill run: {label}", [new ReportWriter.Series(label, history)],
                [new ReportWriter.ResultRow(config.Student.Model, config.Method.Name == "none" ? "alone" : config.Method.Name, [history[^1].TestAccuracy])]);
            onEpoch?.Invoke(r);
        }, startEpoch);
        return new Summary(directory, results, best);
    }

    private sealed class ForwardingProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private static ClassificationModel LoadTeacher(ModelConfig teacher, ModelOptions options)
    {
        var path = teacher.Checkpoint ?? throw new ConfigException("teacher.checkpoint is required");
        if (!File.Exists(path))
        {
            throw new ConfigException($"teacher.checkpoint {path} does not exist (train a teacher with `distill teacher`)");
        }

        var model = ModelRegistry.Create(teacher.Model, options);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(path);
        model.LoadStateDict(TrainingCheckpoint.ModelState(file));
        return model;
    }
}
