using System.Globalization;
using System.Text;
using System.Text.Json;
using Distill.Configs;
using Distill.Engine.Reporting;
using Distill.Engine.SoftLabels;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Segmentation;
using Distill.Tasks;
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
    /// <param name="BestAccuracy">The best test value of the task's primary metric (classification: top-1) over all epochs.</param>
    public sealed record Summary(string Directory, IReadOnlyList<EpochResult> Epochs, double BestAccuracy)
    {
        /// <summary>The final model's evaluation with the per-class breakdown, for tasks whose report shows it (segmentation's IoU, detection's AP; classification, with its confusion matrix); else null.</summary>
        public TaskEvaluation? FinalEvaluation { get; init; }

        /// <summary>The final model's (and the teacher's) predictions on the first test images (segmentation); else empty.</summary>
        public IReadOnlyList<PredictionExample> Examples { get; init; } = [];

        /// <summary>The final model's (and the teacher's) detections on the first test images (detection); else empty.</summary>
        public IReadOnlyList<DetectionExample> DetectionExamples { get; init; } = [];

        /// <summary>The class names of the data set, in label order.</summary>
        public IReadOnlyList<string> ClassNames { get; init; } = [];
    }

    /// <summary>Trains as the recipe says.</summary>
    /// <param name="config">The recipe.</param>
    /// <param name="resume">Continue from the folder's last.safetensors (refused, with nothing changed, if the recipe differs in anything that changes the result).</param>
    /// <param name="progress">Step reports.</param>
    /// <param name="onEpoch">Called after each epoch is logged and checkpointed.</param>
    /// <param name="notices">Where repairs of the folder are announced (a stale lock taken over, leftover temporaries removed) and the data set's notes (a COCO file's skipped zero-size boxes); standard error by default.</param>
    /// <exception cref="ConfigException">
    /// The recipe cannot run (e.g. the teacher checkpoint is missing), the folder holds a run and resume was not asked,
    /// the recipe differs from the checkpoint's, or another live process is writing the folder.
    /// </exception>
    public static Summary Execute(RunConfig config, bool resume = false, IProgress<TrainingProgress>? progress = null, Action<EpochResult>? onEpoch = null,
        TextWriter? notices = null) =>
        Execute(config, (TappedModel<Tensor>?)null, resume, progress, onEpoch, notices);

    /// <summary>
    /// Trains as the recipe says as one rank of a data-parallel job (see docs/training/data-parallel.md): data.batch_size is
    /// the global batch, each rank trains its shard with data.batch_size / world size, gradients are averaged across ranks,
    /// and rank 0 alone writes the run folder. A world size of 1 is an ordinary run.
    /// </summary>
    /// <param name="config">The recipe.</param>
    /// <param name="processGroup">The job's ranks.</param>
    /// <param name="resume">Continue from the folder's last.safetensors (the same world size only).</param>
    /// <param name="progress">Step reports (every rank reports the job's means).</param>
    /// <param name="onEpoch">Called after each epoch (on rank 0, once it is logged and checkpointed).</param>
    /// <param name="notices">Where repairs of the folder and the data set's notes are announced (rank 0).</param>
    /// <exception cref="ConfigException">As the one-process run; also a global batch the world size does not divide, or a resume with another world size.</exception>
    public static Summary Execute(RunConfig config, Torch.Distributed.IProcessGroup processGroup, bool resume, IProgress<TrainingProgress>? progress, Action<EpochResult>? onEpoch,
        TextWriter? notices)
    {
        ArgumentNullException.ThrowIfNull(processGroup);
        return Execute(config, null, resume, progress, onEpoch, notices, processGroup);
    }

    /// <summary>
    /// Trains as the recipe says, with <paramref name="loadedTeacher"/> (when not null) as the teacher instead of one built
    /// and loaded from teacher.checkpoint: a comparison shares one teacher over its runs, and building none per run
    /// draws nothing from the seeded generator between the student's and the method's initialisation. The caller
    /// keeps ownership of the teacher.
    /// </summary>
    internal static Summary Execute(RunConfig config, TappedModel<Tensor>? loadedTeacher, bool resume, IProgress<TrainingProgress>? progress, Action<EpochResult>? onEpoch,
        TextWriter? notices, Torch.Distributed.IProcessGroup? processGroup = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        notices ??= Console.Error;
        var worldSize = processGroup?.WorldSize ?? 1;
        var rank = processGroup?.Rank ?? 0;
        var isMain = rank == 0; // rank 0 alone touches the run folder

        var directory = config.Output;
        var lastPath = Path.Combine(directory, "last.safetensors");
        var bestPath = Path.Combine(directory, "best.safetensors");
        var logPath = Path.Combine(directory, "log.jsonl");
        var csvPath = Path.Combine(directory, "epochs.csv");
        var stepsPath = Path.Combine(directory, "steps.jsonl");
        var configText = ConfigWriter.ToYaml(config);
        var hasCheckpoint = File.Exists(lastPath);
        if (worldSize > 1 && config.Data.BatchSize % worldSize != 0)
        {
            throw new ConfigException($"data.batch_size {config.Data.BatchSize} is the global batch of the {worldSize} processes and must be divisible by {worldSize} (each process trains batch_size / {worldSize}); choose a multiple of {worldSize}, or another --nproc");
        }

        if (!resume && hasCheckpoint)
        {
            throw new ConfigException($"{directory} already holds a run (last.safetensors): pass --resume to continue it, or choose another output");
        }

        // Everything that can refuse the run does so before the folder is touched.
        var device = RunDevice.Resolve(config.Train.Device, "train.device (--device)");
        if (resume && hasCheckpoint)
        {
            CheckResumable(config, lastPath, worldSize);
        }

        var task = TrainingTasks.Create(config.Task);
        var descriptor = MethodFactory.Find(config.Method.Name);
        var needsTeacher = descriptor is { NeedsTeacher: true };
        if (needsTeacher && config.Teacher?.SoftLabels is not null && task is not ClassificationTask)
        {
            throw new ConfigException($"teacher.soft_labels: a soft-label store serves classification only (its draws and logits are per image), but the task is {task.Name}; remove teacher.soft_labels");
        }

        var seed = (ulong)config.Train.Seed;
        var loaders = DatasetFactory.Create(config.Data, seed, device, rank, worldSize);
        var options = loaders.ModelOptions;
        TorchRuntime.ManualSeed(seed);
        using var student = NewModel(task, "student.model", config.Student.Model, options);
        if (config.Student.Checkpoint is { } start && !(resume && hasCheckpoint))
        {
            // The student starts from these weights instead of the seed's (a resume takes its weights from last.safetensors).
            LoadWeights(student, start, "student", config.Student.Model, "a state dict of student.model");
        }
        else if (config.Student.BackboneWeights is { } backbone && !(resume && hasCheckpoint))
        {
            LoadBackbone(student, backbone, config.Student.Model);
        }

        using var ownTeacher = !needsTeacher || config.Teacher is null || loadedTeacher is not null ? null : LoadTeacher(task, config.Teacher, options);
        var teacher = needsTeacher ? loadedTeacher ?? ownTeacher : null;
        using var distiller = MethodBuilder.Create(config.Method, MethodContext.FromModels(student, teacher, options,
            task is ClassificationTask ? Enumerable.Range(0, loaders.Train.Dataset.Count).Select(loaders.Train.Dataset.LabelOf).ToArray() : null), config.Task);
        using var softLabels = needsTeacher && config.Teacher?.SoftLabels is { } storePath ? OpenSoftLabels(storePath, config, loaders, distiller) : null;

        // The folder is made (and locked) only now: a recipe refused over its data, models, method or soft-label store leaves nothing behind.
        using var folderLock = isMain ? LockFolder(directory, notices) : null;
        hasCheckpoint = File.Exists(lastPath);
        if (resume && hasCheckpoint)
        {
            // Checked again under the lock: the folder cannot change from here on.
            CheckResumable(config, lastPath, worldSize);
        }
        else if (hasCheckpoint)
        {
            throw new ConfigException($"{directory} already holds a run (last.safetensors): pass --resume to continue it, or choose another output");
        }

        if (isMain)
        {
            SafeTensors.WriteAtomically(Path.Combine(directory, "config.yaml"), s => s.Write(Encoding.UTF8.GetBytes(configText)));
        }

        foreach (var note in isMain ? loaders.Notes : [])
        {
            notices.WriteLine(note);
        }

        if (softLabels is not null)
        {
            loaders = loaders with { Train = loaders.Train.WithRecordedDraws(softLabels) };
            notices.WriteLine($"teacher.soft_labels: {softLabels.Key.Draws} recorded draws per image from {softLabels.Path} ({(softLabels.Key.TopK == 0 ? "full logits" : $"top-{softLabels.Key.TopK}")}); the teacher is not run");
        }

        // Built on the host (the seed gives the same weights everywhere), then moved with their buffers.
        student.To(device);
        teacher?.To(device);
        distiller?.To(device);
        if (rank > 0)
        {
            // Random draws inside the step (masks, dropout) differ between ranks as they would between the samples of one
            // batch: rank r > 0 draws from a stream of its own seeded by (seed, rank); rank 0 keeps the one-process stream.
            TorchRuntime.ManualSeed(unchecked(seed + ((ulong)rank * 0x9E3779B97F4A7C15UL)));
        }

        // teacher.fold_bn and teacher.precision: bf16 train with a copy (none when the soft-label store stands in for the
        // teacher, or when the method reads nothing of it); the teacher as loaded still draws the report's examples.
        var trainingTeacher = teacher;
        var teacherFormat = MemoryFormat.Contiguous;
        if (teacher is not null && softLabels is null && distiller is { NeedsTeacher: true } && config.Teacher is { } teacherConfig)
        {
            trainingTeacher = TrainingTeacher.ForTraining(task, teacherConfig, teacher, options, device, distiller.TeacherTaps, notices, out teacherFormat);
        }

        using var precisionCopy = ReferenceEquals(trainingTeacher, teacher) ? null : trainingTeacher;
        // student.channels_last: a classification student in one CPU process (data-parallel exchanges need contiguous
        // tensors; dense heads are not checked in this layout).
        var studentFormat = config.Student.ChannelsLast && task is ClassificationTask && device.Type == DeviceType.Cpu && worldSize == 1
            ? MemoryFormat.ChannelsLast
            : MemoryFormat.Contiguous;
        if (studentFormat == MemoryFormat.ChannelsLast)
        {
            student.To(studentFormat);
        }

        var trainerOptions = Options(config.Train, device, loaders.Train.BatchCount) with
        {
            ProcessGroup = processGroup,
            TeacherInputFormat = teacherFormat,
            StudentInputFormat = studentFormat,
        };
        using var trainer = NewTrainer(student, trainingTeacher, distiller, trainerOptions, config, task, softLabels);
        var startEpoch = 1;
        var best = 0.0;
        List<EpochResult> history;
        if (resume && hasCheckpoint)
        {
            TrainingState state;
            try
            {
                state = TrainingCheckpoint.Load(lastPath, student, trainer.Optimizer, trainer.Scheduler, distiller, [new NumericEntry("best_accuracy", 0, 1)],
                    trainer.MethodOptimizer, trainer.MethodScheduler);
            }
            catch (Distill.NN.StateDictMismatchException e)
            {
                throw new ConfigException($"--resume: {lastPath} does not fit student.model {config.Student.Model} with method {config.Method.Name} (a run of another recipe?): {CheckpointMismatch.Summary(e)}", e);
            }

            startEpoch = state.Epoch + 1;
            best = double.Parse(state.Extra.GetValueOrDefault("best_accuracy", "0"), CultureInfo.InvariantCulture);

            // A run that died after logging an epoch but before renaming its checkpoint runs that epoch again: log it once.
            history = isMain ? RunFolder.TruncateLogs(directory, state.Epoch) : [];
        }
        else if (!isMain)
        {
            history = [];
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
            if (isMain)
            {
                File.AppendAllText(stepsPath, JsonSerializer.Serialize(p, RunLogJson.Options) + "\n");
            }

            progress?.Report(p);
        });
        TaskEvaluation? finalEvaluation = null;
        IReadOnlyList<PredictionExample> examples = [];
        IReadOnlyList<DetectionExample> detectionExamples = [];
        var classNames = loaders.Train.Dataset.Classes;
        var environment = RunInfoSection.Environment([config.Train.Seed]);
        var results = trainer.Fit(loaders.Train, loaders.Test, stepLog, r =>
        {
            if (!isMain)
            {
                history.Add(r);
                onEpoch?.Invoke(r);
                return;
            }

            File.AppendAllText(logPath, JsonSerializer.Serialize(r, RunLogJson.Options) + "\n");
            File.AppendAllText(csvPath, string.Create(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.LearningRate:R},{r.TrainAccuracy:R},{r.TestAccuracy:R},{r.ImagesPerSecond:F1},{r.Seconds:F2},{string.Join(';', r.LossTerms.Select(t => $"{t.Key}={t.Value:R}"))}\n"));
            history.Add(r);
            // The first epoch always writes best.safetensors (a metric of 0 is a result too); later ones only when they beat it.
            if (r.TestAccuracy > best || !File.Exists(bestPath))
            {
                best = r.TestAccuracy;
                using var scope = DisposeScope.Enter();
                SafeTensors.Save(bestPath, student.StateDict(), new Dictionary<string, string> { ["epoch"] = r.Epoch.ToString(CultureInfo.InvariantCulture), ["test_accuracy"] = r.TestAccuracy.ToString("R", CultureInfo.InvariantCulture) });
            }

            var extra = new Dictionary<string, string> { ["best_accuracy"] = best.ToString("R", CultureInfo.InvariantCulture) };
            if (worldSize > 1)
            {
                extra[WorldSizeEntry] = worldSize.ToString(CultureInfo.InvariantCulture);
            }

            TrainingCheckpoint.Save(lastPath, student, trainer.Optimizer, trainer.Scheduler, r.Epoch, configText, extra, distiller, trainer.MethodOptimizer, trainer.MethodScheduler);
            var alone = ReferenceEquals(descriptor, MethodFactory.None);
            var label = alone ? $"{config.Student.Model} alone" : teacher is null ? $"{config.Student.Model} {config.Method.Name}" : $"{config.Student.Model} {config.Method.Name} from {config.Teacher!.Model}";
            if (r.Epoch == config.Train.Epochs && task is SegmentationTask segmentation)
            {
                // After the last epoch: the per-class IoU and example predictions the segmentation report shows.
                finalEvaluation = segmentation.Evaluate(student, loaders.Test, breakdown: true);
                var normalization = loaders.Normalization;
                examples = SegmentationExamples.Collect(student, teacher, loaders.Test, normalization?.Mean ?? [0.0], normalization?.Std ?? [1.0], ExampleCount, segmentation);
            }
            else if (r.Epoch == config.Train.Epochs && task is ClassificationTask classification)
            {
                // After the last epoch: the per-class accuracy and the confusion matrix the classification report shows.
                finalEvaluation = classification.Evaluate(student, loaders.Test, breakdown: true);
            }
            else if (r.Epoch == config.Train.Epochs && task is Tasks.Detection.DetectionTask detection)
            {
                // After the last epoch: the per-category AP and example detections the detection report shows.
                finalEvaluation = detection.Evaluate(student, loaders.Test, breakdown: true);
                var normalization = loaders.Normalization;
                detectionExamples = Reporting.DetectionExamples.Collect(student, teacher, loaders.Test, normalization?.Mean ?? [0.0], normalization?.Std ?? [1.0], ExampleCount, detection);
            }

            var runLabel = alone ? "alone" : config.Method.Name;
            IReadOnlyList<IReportSection> sections = finalEvaluation is null ? []
                : finalEvaluation.Confusion is { } confusion ?
                [
                    new PerClassAccuracySection(classNames, [new PerClassIoURun(runLabel, [finalEvaluation.Breakdown])]),
                    new ConfusionMatrixSection(classNames, [confusion]),
                ]
                : task is Tasks.Detection.DetectionTask ?
                [
                    PerClassIoUSection.PerCategoryAp(classNames, [new PerClassIoURun(runLabel, [finalEvaluation.Breakdown])]),
                    new DetectionExamplesSection(detectionExamples, classNames),
                ] :
                [
                    new PerClassIoUSection(classNames, [new PerClassIoURun(runLabel, [finalEvaluation.Breakdown])]),
                    new PredictionExamplesSection(examples, classNames),
                ];
            sections = [.. sections, new RunInfoSection(configText, environment)];
            ReportWriter.Write(Path.Combine(directory, "report.html"), $"Distill run: {label}", [new ReportWriter.Series(label, history) { Steps = RunFolder.ReadSteps(directory) }],
                [new ReportWriter.ResultRow(config.Student.Model, alone ? "alone" : config.Method.Name, [history[^1].TestAccuracy])], trainer.Task.PrimaryMetricLabel, sections);
            onEpoch?.Invoke(r);
        }, startEpoch);
        return new Summary(directory, results, best) { FinalEvaluation = finalEvaluation, Examples = examples, DetectionExamples = detectionExamples, ClassNames = classNames };
    }

    /// <summary>How many test images a segmentation or detection report shows predictions for.</summary>
    public const int ExampleCount = 4;

    /// <summary>The checkpoint entry of a data-parallel run's world size (absent: one process).</summary>
    private const string WorldSizeEntry = "world_size";

    /// <summary>Creates the folder, takes its lock and removes a dead run's temporaries (rank 0 only).</summary>
    private static RunFolderLock LockFolder(string directory, TextWriter notices)
    {
        Directory.CreateDirectory(directory);
        var folderLock = RunFolderLock.Acquire(directory, notices);
        RunFolder.RemoveStaleTemporaries(directory, notices);
        return folderLock;
    }

    /// <summary>Refuses to resume with a recipe that changes the result, naming each differing key with both values, or with another number of processes.</summary>
    private static void CheckResumable(RunConfig config, string lastPath, int worldSize)
    {
        string? savedText;
        int epoch;
        using (DisposeScope.Enter())
        {
            using var file = SafeTensors.Load(lastPath);
            var savedWorld = file.Metadata.GetValueOrDefault("extra." + WorldSizeEntry) ?? "1";
            if (savedWorld != worldSize.ToString(CultureInfo.InvariantCulture))
            {
                throw new ConfigException($"cannot resume {config.Output}: its checkpoint was trained by {savedWorld} process(es) and this run has {worldSize}; resume with --nproc {savedWorld} (or train into another output)");
            }

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
    private static Trainer NewTrainer(TappedModel<Tensor> student, TappedModel<Tensor>? teacher, Distiller? distiller, TrainerOptions options, RunConfig config, ITrainingTask task,
        SoftLabelStore? softLabels)
    {
        try
        {
            return new Trainer(student, teacher, distiller, options, task, softLabels);
        }
        catch (ArgumentException e) when (e.Message.StartsWith("the warm-up", StringComparison.Ordinal))
        {
            throw new ConfigException($"train: {e.Message} ({config.Train.Epochs} epochs of {options.IterationsPerEpoch} iterations)", e);
        }
    }

    /// <summary>Opens teacher.soft_labels for this recipe (a classification one, checked before): a method that reads only teacher logits, and a store built from this very teacher, data set and transforms.</summary>
    private static SoftLabelStore OpenSoftLabels(string path, RunConfig config, DatasetFactory.Loaders loaders, Distiller? distiller)
    {
        if (SoftLabelStore.Refusal(distiller) is { } refusal)
        {
            throw new ConfigException($"teacher.soft_labels: {refusal}");
        }

        var key = SoftLabelBuilder.KeyFor(config.Teacher!.Model, config.Teacher.Checkpoint!, config.Data, loaders.Train, draws: 0, topK: 0);
        try
        {
            return SoftLabelStore.Open(path, key);
        }
        catch (SoftLabelStoreException e)
        {
            throw new ConfigException($"teacher.soft_labels: {e.Message}", e);
        }
    }

    private sealed class ForwardingProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>
    /// Builds <paramref name="name"/> for the recipe's task: a model of another task, or one that cannot take the data's image
    /// size (ViT: a size that is not a multiple of its patch), is the recipe's fault, named by <paramref name="key"/>.
    /// </summary>
    /// <param name="task">The recipe's task.</param>
    /// <param name="key">The recipe key or flag that named the model (for messages).</param>
    /// <param name="name">The model's name.</param>
    /// <param name="options">Classes, channels and input size.</param>
    /// <exception cref="ConfigException">No model of that name, a model of another task, or one that cannot take the input size.</exception>
    public static TappedModel<Tensor> NewModel(ITrainingTask task, string key, string name, ModelOptions options)
    {
        if (!task.Models.Any(m => m.Name == name))
        {
            var owner = TrainingTasks.OwnerOf(name);
            throw new ConfigException(owner is null
                ? $"{key}: no model named '{name}'; {task.Name} models: {string.Join(", ", task.Models.Select(m => m.Name))}"
                : $"{key}: {name} is a {owner.Name} model, but the recipe's task is {task.Name} (task: {task.Name}); {task.Name} models: {string.Join(", ", task.Models.Select(m => m.Name))}");
        }

        try
        {
            return task.CreateModel(name, options);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{key}: {e.Message} (the data's images are {options.InputSize}; data.image_size resizes them)", e);
        }
    }

    private static TappedModel<Tensor> LoadTeacher(ITrainingTask task, ModelConfig teacher, ModelOptions options)
    {
        var path = teacher.Checkpoint ?? throw new ConfigException("teacher.checkpoint is required");
        var model = NewModel(task, "teacher.model", teacher.Model, options);
        try
        {
            LoadWeights(model, path, "teacher", teacher.Model, "train a teacher with `distill teacher`");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads student.backbone_weights into a segmenter's backbone; a missing file or another network's weights is an error naming the key.</summary>
    private static void LoadBackbone(TappedModel<Tensor> model, string path, string modelName)
    {
        if (model is not SegmentationModel segmenter)
        {
            throw new ConfigException($"student.backbone_weights: {modelName} is not a segmenter with a ResNet backbone");
        }

        if (!File.Exists(path))
        {
            throw new ConfigException($"student.backbone_weights {path} does not exist (a torchvision ResNet state dict saved as safetensors)");
        }

        try
        {
            segmenter.LoadImageNetBackbone(path);
        }
        catch (Exception e) when (e is Distill.NN.StateDictMismatchException or CheckpointFormatException)
        {
            throw new ConfigException($"student.backbone_weights: {e.Message}", e);
        }
    }

    /// <summary>Loads <paramref name="section"/>.checkpoint into its model; a missing file or another model's weights is an error naming the key.</summary>
    internal static void LoadWeights(TappedModel<Tensor> model, string path, string section, string modelName, string hint)
    {
        if (!File.Exists(path))
        {
            throw new ConfigException($"{section}.checkpoint {path} does not exist ({hint})");
        }

        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(path);
        CheckpointMismatch.Load(model, TrainingCheckpoint.ModelState(file), path, $"{section}.model", modelName);
    }

    /// <summary>The trainer's options: every train key of the recipe but seed (the loaders' order and the weights) and device (resolved by the caller).</summary>
    /// <param name="train">The recipe's train section.</param>
    /// <param name="device">Where the run's tensors live.</param>
    /// <param name="iterationsPerEpoch">The training loader's batch count.</param>
    internal static TrainerOptions Options(TrainConfig train, Device device, int iterationsPerEpoch) => new()
    {
        Device = device,
        Epochs = train.Epochs,
        LearningRate = train.Lr,
        Momentum = train.Momentum,
        WeightDecay = train.WeightDecay,
        Optimizer = train.Optimizer,
        Nesterov = train.Nesterov,
        Betas = (train.Betas[0], train.Betas[1]),
        Eps = train.Eps,
        NoWeightDecayOn = train.NoWeightDecayOn,
        MethodLrMult = train.MethodLrMult,
        Schedule = train.Schedule,
        StepPerIteration = train.StepPer == "iteration",
        IterationsPerEpoch = iterationsPerEpoch,
        Milestones = train.Milestones,
        WarmupEpochs = train.WarmupEpochs,
        WarmupIters = train.WarmupIters,
        WarmupStartFactor = train.WarmupStartFactor,
        Power = train.Power,
        EtaMin = train.EtaMin,
        GradClip = train.GradClip,
        SyncBatchNorm = train.SyncBn,
    };
}
