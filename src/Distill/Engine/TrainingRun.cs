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
/// uninterrupted run of the same recipe; a recipe that would change the result is refused before anything is
/// written, and the logs are cut back to the checkpoint's epoch. run.lock names the process writing the folder
/// while it runs. report.html (curves and result) is rewritten after every epoch.
/// </summary>
public static class TrainingRun
{
    /// <summary>What the run produced.</summary>
    /// <param name="Directory">The run folder.</param>
    /// <param name="Epochs">The epochs run now (not those before a resume).</param>
    /// <param name="BestAccuracy">The best test top-1 over all epochs.</param>
    public sealed record Summary(string Directory, IReadOnlyList<EpochResult> Epochs, double BestAccuracy);

    /// <summary>Trains as the recipe says.</summary>
    /// <param name="config">The recipe.</param>
    /// <param name="resume">Continue from the folder's last.safetensors (refused, with nothing changed, if the recipe differs in anything that changes the result).</param>
    /// <param name="progress">Step reports.</param>
    /// <param name="onEpoch">Called after each epoch is logged and checkpointed.</param>
    /// <param name="notices">Where repairs of the folder are announced (a stale lock taken over, leftover temporaries removed); standard error by default.</param>
    /// <exception cref="ConfigException">
    /// The recipe cannot run (e.g. the teacher checkpoint is missing), the folder holds a run and resume was not asked,
    /// the recipe differs from the checkpoint's, or another live process is writing the folder.
    /// </exception>
    public static Summary Execute(RunConfig config, bool resume = false, IProgress<TrainingProgress>? progress = null, Action<EpochResult>? onEpoch = null,
        TextWriter? notices = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        notices ??= Console.Error;
        var directory = config.Output;
        var lastPath = Path.Combine(directory, "last.safetensors");
        var bestPath = Path.Combine(directory, "best.safetensors");
        var logPath = Path.Combine(directory, "log.jsonl");
        var csvPath = Path.Combine(directory, "epochs.csv");
        var stepsPath = Path.Combine(directory, "steps.jsonl");
        var configText = ConfigWriter.ToYaml(config);
        var hasCheckpoint = File.Exists(lastPath);
        if (!resume && hasCheckpoint)
        {
            throw new ConfigException($"{directory} already holds a run (last.safetensors): pass --resume to continue it, or choose another output");
        }

        // Everything that can refuse the run does so before the folder is touched.
        var device = RunDevice.Resolve(config.Train.Device, "train.device (--device)");
        if (resume && hasCheckpoint)
        {
            CheckResumable(config, lastPath);
        }

        Directory.CreateDirectory(directory);
        using var folderLock = RunFolderLock.Acquire(directory, notices);
        RunFolder.RemoveStaleTemporaries(directory, notices);
        hasCheckpoint = File.Exists(lastPath);
        if (resume && hasCheckpoint)
        {
            // Checked again under the lock: the folder cannot change from here on.
            CheckResumable(config, lastPath);
        }
        else if (hasCheckpoint)
        {
            throw new ConfigException($"{directory} already holds a run (last.safetensors): pass --resume to continue it, or choose another output");
        }

        SafeTensors.WriteAtomically(Path.Combine(directory, "config.yaml"), s => s.Write(Encoding.UTF8.GetBytes(configText)));
        var seed = (ulong)config.Train.Seed;
        var loaders = DatasetFactory.Create(config.Data, seed, device);
        var options = new ModelOptions(loaders.Classes, loaders.Channels, loaders.ImageSize);
        TorchRuntime.ManualSeed(seed);
        using var student = ModelRegistry.Create(config.Student.Model, options);
        var needsTeacher = MethodFactory.Find(config.Method.Name) is { NeedsTeacher: true };
        using var teacher = !needsTeacher || config.Teacher is null ? null : LoadTeacher(config.Teacher, options);
        using var distiller = MethodBuilder.Create(config.Method, MethodContext.FromModels(student, teacher, options,
            Enumerable.Range(0, loaders.Train.Dataset.Count).Select(loaders.Train.Dataset.LabelOf).ToArray()));
        // Built on the host (the seed gives the same weights everywhere), then moved with their buffers.
        student.To(device);
        teacher?.To(device);
        distiller?.To(device);
        var trainerOptions = new TrainerOptions
        {
            Device = device,
            Epochs = config.Train.Epochs,
            LearningRate = config.Train.Lr,
            Momentum = config.Train.Momentum,
            WeightDecay = config.Train.WeightDecay,
            Optimizer = config.Train.Optimizer,
            Nesterov = config.Train.Nesterov,
            Betas = (config.Train.Betas[0], config.Train.Betas[1]),
            Eps = config.Train.Eps,
            NoWeightDecayOn = config.Train.NoWeightDecayOn,
            MethodLrMult = config.Train.MethodLrMult,
            Schedule = config.Train.Schedule,
            StepPerIteration = config.Train.StepPer == "iteration",
            IterationsPerEpoch = loaders.Train.BatchCount,
            Milestones = config.Train.Milestones,
            WarmupEpochs = config.Train.WarmupEpochs,
            WarmupIters = config.Train.WarmupIters,
            WarmupStartFactor = config.Train.WarmupStartFactor,
            Power = config.Train.Power,
            EtaMin = config.Train.EtaMin,
            GradClip = config.Train.GradClip,
        };
        using var trainer = NewTrainer(student, teacher, distiller, trainerOptions, config);
        var startEpoch = 1;
        var best = 0.0;
        List<EpochResult> history;
        if (resume && hasCheckpoint)
        {
            TrainingState state;
            try
            {
                state = TrainingCheckpoint.Load(lastPath, student, trainer.Optimizer, trainer.Scheduler, distiller, [new NumericEntry("best_accuracy", 0, 1)]);
            }
            catch (Distill.NN.StateDictMismatchException e)
            {
                throw new ConfigException($"--resume: {lastPath} does not fit student.model {config.Student.Model} with method {config.Method.Name} (a run of another recipe?): {CheckpointMismatch.Summary(e)}", e);
            }

            startEpoch = state.Epoch + 1;
            best = double.Parse(state.Extra.GetValueOrDefault("best_accuracy", "0"), CultureInfo.InvariantCulture);

            // A run that died after logging an epoch but before renaming its checkpoint runs that epoch again: log it once.
            history = RunFolder.TruncateLogs(directory, state.Epoch);
        }
        else
        {
            File.WriteAllText(csvPath, RunFolder.CsvHeader + "\n");
            File.WriteAllText(logPath, string.Empty);
            File.WriteAllText(stepsPath, string.Empty);
            history = [];
        }

        // Steps are logged when the trainer reports (every 10 steps and at each epoch's end).
        var stepLog = new ForwardingProgress(p =>
        {
            File.AppendAllText(stepsPath, JsonSerializer.Serialize(p, RunLogJson.Options) + "\n");
            progress?.Report(p);
        });
        var results = trainer.Fit(loaders.Train, loaders.Test, stepLog, r =>
        {
            File.AppendAllText(logPath, JsonSerializer.Serialize(r, RunLogJson.Options) + "\n");
            File.AppendAllText(csvPath, string.Create(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.LearningRate:R},{r.TrainAccuracy:R},{r.TestAccuracy:R},{r.ImagesPerSecond:F1},{r.Seconds:F2},{string.Join(';', r.LossTerms.Select(t => $"{t.Key}={t.Value:R}"))}\n"));
            history.Add(r);
            if (r.TestAccuracy > best)
            {
                best = r.TestAccuracy;
                using var scope = DisposeScope.Enter();
                SafeTensors.Save(bestPath, student.StateDict(), new Dictionary<string, string> { ["epoch"] = r.Epoch.ToString(CultureInfo.InvariantCulture), ["test_accuracy"] = r.TestAccuracy.ToString("R", CultureInfo.InvariantCulture) });
            }

            TrainingCheckpoint.Save(lastPath, student, trainer.Optimizer, trainer.Scheduler, r.Epoch, configText,
                new Dictionary<string, string> { ["best_accuracy"] = best.ToString("R", CultureInfo.InvariantCulture) }, distiller);
            var label = config.Method.Name == "none" ? $"{config.Student.Model} alone" : teacher is null ? $"{config.Student.Model} {config.Method.Name}" : $"{config.Student.Model} {config.Method.Name} from {config.Teacher!.Model}";
            ReportWriter.Write(Path.Combine(directory, "report.html"), $"Distill run: {label}", [new ReportWriter.Series(label, history)],
                [new ReportWriter.ResultRow(config.Student.Model, config.Method.Name == "none" ? "alone" : config.Method.Name, [history[^1].TestAccuracy])]);
            onEpoch?.Invoke(r);
        }, startEpoch);
        return new Summary(directory, results, best);
    }

    /// <summary>Refuses to resume with a recipe that changes the result, naming each differing key with both values.</summary>
    private static void CheckResumable(RunConfig config, string lastPath)
    {
        string? savedText;
        int epoch;
        using (DisposeScope.Enter())
        {
            using var file = SafeTensors.Load(lastPath);
            savedText = file.Metadata.GetValueOrDefault("distill.config");
            if (file.Metadata.GetValueOrDefault("distill.kind") != "training"
                || !int.TryParse(file.Metadata.GetValueOrDefault("distill.epoch"), NumberStyles.None, CultureInfo.InvariantCulture, out epoch))
            {
                throw new CheckpointFormatException($"{lastPath}: not a Distill training checkpoint (its metadata lacks distill.kind=training or the epoch)");
            }
        }

        if (savedText is null)
        {
            throw new ConfigException($"cannot resume {config.Output}: {lastPath} does not hold the recipe it was trained with, so the recipe cannot be checked against it");
        }

        var saved = Recipes.Parse(savedText, $"{lastPath} (its recipe)");
        var differences = RecipeDiff.Differences(saved, config, epoch);
        if (differences.Count > 0)
        {
            throw new ConfigException(
                $"cannot resume {config.Output}: the recipe differs from the one its checkpoint (epoch {epoch}) was trained with: {string.Join("; ", differences)}. Nothing was changed; restore {(differences.Count == 1 ? "that key" : "those keys")}, or train into another output");
        }
    }

    /// <summary>The trainer; a schedule that cannot be built for this data (a warm-up in iterations as long as the run) is a recipe error.</summary>
    private static Trainer NewTrainer(ClassificationModel student, ClassificationModel? teacher, Distiller? distiller, TrainerOptions options, RunConfig config)
    {
        try
        {
            return new Trainer(student, teacher, distiller, options);
        }
        catch (ArgumentException e) when (e.Message.StartsWith("the warm-up", StringComparison.Ordinal))
        {
            throw new ConfigException($"train: {e.Message} ({config.Train.Epochs} epochs of {options.IterationsPerEpoch} iterations)", e);
        }
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
        CheckpointMismatch.Load(model, TrainingCheckpoint.ModelState(file), path, "teacher.model", teacher.Model);
        return model;
    }
}
