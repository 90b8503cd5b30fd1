using System.CommandLine;
using System.Globalization;
using Distill.Engine;
using Distill.Engine.Comparison;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Torch;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>
/// `distill quickstart`: on Fashion-MNIST, trains a teacher (cached for later runs), the student alone and
/// the student with KD from the same initial weights, then prints the comparison and writes the results.
/// The recipes are configs/fashion-mnist/quickstart/*.yaml; the flags override their keys (<see cref="Quickstart"/>).
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var command = new Command("quickstart", "Train a teacher, a student alone and a student with KD on Fashion-MNIST (or, with --task segmentation or detection, with the dense or detection methods on the scene sets), and compare them.");
        var task = new Option<string>("--task")
        {
            Description = "classification (Fashion-MNIST, configs/fashion-mnist/quickstart), segmentation (the scene set, configs/scenes/quickstart) or detection (the detection scene set, configs/det-scenes/quickstart).",
            DefaultValueFactory = _ => "classification",
        };
        task.AcceptOnlyFromAmong([.. Quickstart.Tasks]);
        var epochs = new Option<int?>("--epochs") { Description = "Student epochs (default: train.epochs of the task's quickstart/student.yaml)." };
        var teacherEpochs = new Option<int?>("--teacher-epochs") { Description = "Teacher epochs (default: train.epochs of the task's quickstart/teacher.yaml; the trained teacher is cached)." };
        var fast = new Option<bool>("--fast") { Description = "A smoke run: 6,000 training images (segmentation: 500 scenes, detection: 160), 1 epoch each." };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, order and augmentation (the first of --seeds).", DefaultValueFactory = _ => 0 };
        var seeds = new Option<int>("--seeds") { Description = "Student runs per training (seeds seed, seed+1, ...); the table shows mean +/- std.", DefaultValueFactory = _ => 1 };
        var teacher = new Option<string?>("--teacher") { Description = "Teacher model (default: the recipe's: resnet20, scene_teacher for segmentation, det_scene_teacher for detection)." };
        var student = new Option<string?>("--student") { Description = "Student model (default: the recipe's: resnet8, scene_student for segmentation, det_scene_student for detection)." };
        var output = new Option<string>("--output") { Description = "Folder for results and the teacher cache.", DefaultValueFactory = _ => "runs" };
        var methods = new Option<string>("--methods")
        {
            Description = "Distillation methods to compare with the student alone, e.g. kd,dkd:warmup=2,tfd (see `distill methods`; default: kd, cwd,skd,mgd,tfd for segmentation, fgd,mgd,cwd,skd_det for detection).",
        };
        var legacy = new Option<bool>("--legacy-schedule")
        {
            Description = "The recipes before per-iteration schedules (cosine stepped once per epoch, quickstart/legacy_*.yaml): the old quickstart's numbers.",
        };
        var softLabels = new Option<int>("--soft-labels")
        {
            Description = "Build a soft-label store of the teacher once (M recorded augmentation draws per training image with its outputs; cached beside the teacher) and train the logit methods (kd, dkd, ...) from it without running the teacher; feature methods keep the online teacher. 0: off.",
            DefaultValueFactory = _ => 0,
        };
        var set = new Option<string[]>("--set") { Description = "Override a key of the teacher's and the students' recipes, e.g. --set data.batch_size=64 (repeatable; teacher.* keys, e.g. teacher.precision=bf16, go to the students' recipes only)." };
        foreach (var o in new Option[] { task, epochs, teacherEpochs, fast, seed, seeds, teacher, student, output, methods })
        {
            command.Options.Add(o);
        }

        var device = DeviceOption.Create();
        foreach (var o in new Option[] { device, legacy, softLabels, set })
        {
            command.Options.Add(o);
        }

        CliChecks.AtLeast(epochs, 1);
        CliChecks.AtLeast(teacherEpochs, 1);
        CliChecks.AtLeast(seeds, 1);
        CliChecks.AtLeast(softLabels, 0);
        command.SetAction(r => Run(new QuickstartOptions
        {
            Task = r.GetValue(task)!,
            Epochs = r.GetValue(epochs),
            TeacherEpochs = r.GetValue(teacherEpochs),
            Fast = r.GetValue(fast),
            Seed = r.GetValue(seed),
            Seeds = r.GetValue(seeds),
            Teacher = r.GetValue(teacher),
            Student = r.GetValue(student),
            Output = r.GetValue(output)!,
            Device = r.GetValue(device) ?? "cpu",
            LegacySchedule = r.GetValue(legacy),
            SoftLabels = r.GetValue(softLabels),
            Sets = r.GetValue(set) ?? [],
        }, r.GetValue(methods) ?? Quickstart.DefaultMethods(r.GetValue(task)!)));
        return command;
    }

    private static int Run(QuickstartOptions options, string methodList)
    {
        if (options.Teacher is { } teacherFlag)
        {
            CliChecks.Model("--teacher", teacherFlag);
        }

        if (options.Student is { } studentFlag)
        {
            CliChecks.Model("--student", studentFlag);
        }

        CliChecks.OutputFolder("--output", options.Output);
        var methods = MethodList.Parse("--methods", methodList).Select(m => new ComparisonMethod(m.Label, m.Name, m.Options)).ToArray();
        var runDirectory = ComparisonRun.FreshFolder(options.Output, "quickstart", DateTime.UtcNow);
        QuickstartPlan plan;
        try
        {
            plan = Quickstart.Plan(options with { Methods = methods, RunDirectory = runDirectory });
        }
        catch (Distill.Configs.ConfigException e) when (e.Message.StartsWith("override --set method.", StringComparison.Ordinal))
        {
            throw new Distill.Configs.ConfigException($"--methods: {e.Message}", e);
        }

        DataParallelEnvironment.UseCoreShare(1);

        Directory.CreateDirectory(runDirectory);
        var teacherModel = plan.Teacher.Student.Model;
        var studentModel = plan.Students[0].Runs[0].Student.Model;
        var s = new Settings(plan.Students[0].Runs[0].Train.Epochs, plan.Teacher.Train.Epochs, options.Fast, (ulong)options.Seed, options.Seeds, teacherModel, studentModel,
            options.Output, methodList, options.Device!, options.SoftLabels);
        var trainingTask = TrainingTasks.Create(plan.Teacher.Task);
        var metric = trainingTask.PrimaryMetricLabel;
        var dataName = Quickstart.DataName(plan.Teacher.Data.Dataset);
        AnsiConsole.MarkupLine($"[bold]Distill quickstart[/]: {dataName} ({plan.TrainImages:N0} train / {plan.TestImages:N0} test), teacher [bold]{teacherModel}[/], student [bold]{studentModel}[/], seed {s.Seed}");
        AnsiConsole.MarkupLine($"libtorch {TorchRuntime.LibTorchVersion}, {TorchRuntime.Threads} thread(s); results in {Markup.Escape(runDirectory)}");

        using var stage = TeacherStage.TrainOrLoad(plan.Teacher, plan.TeacherCheckpoint, Display);
        if (stage.Cached)
        {
            AnsiConsole.MarkupLine($"teacher {teacherModel}: loaded from the cache ({Markup.Escape(stage.Checkpoint)}), test {metric} {Percent(stage.Row.FinalAccuracies[0])}");
        }

        var studentPlan = plan.Students;
        SoftLabelStage? softLabelStage = null;
        if (options.SoftLabels > 0)
        {
            var store = SoftLabelProgress.Run(AnsiConsole.Console, $"soft labels x{options.SoftLabels}",
                progress => SoftLabelStage.Prepare(plan, stage.Model, options.SoftLabels, progress, Console.Error));
            (studentPlan, softLabelStage) = (store.Students, store);
            AnsiConsole.MarkupLine(Markup.Escape($"soft-label store ({options.SoftLabels} draws per image) {(store.Cached ? "loaded from the cache" : "built")}: {store.Path}; "
                + (store.FromStore.Count == 0 ? "no method here reads only the teacher's logits, so every one runs the teacher" : $"{string.Join(", ", store.FromStore)} train from it without running the teacher")));
        }

        var students = ComparisonRun.Execute(studentPlan, Display, stage.Model);
        // The rows that trained from the store say so in the table, results.md and the report.
        students = softLabelStage is null ? students : students with { Rows = softLabelStage.Mark(students.Rows) };
        var result = students with { Rows = [stage.Row, .. students.Rows], Series = [.. stage.Series is { } t ? [t] : Array.Empty<ReportWriter.Series>(), .. students.Series] };
        var table = ResultsTable(plan.Teacher.Data.Dataset, trainingTask is DetectionTask, result.Rows, metric);
        AnsiConsole.Write(table);
        var (_, reportPath, resultsPath) = ComparisonRun.Write(runDirectory, $"Distill quickstart: {studentModel} from {teacherModel} on {dataName}", result, s);
        AnsiConsole.MarkupLine(s.Seeds == 1
            ? "One seed, one run each: differences of a few tenths of a percent are noise; --seeds N gives mean ± std."
            : $"Mean ± std over {s.Seeds} seeds (sample std).");
        AnsiConsole.MarkupLine($"Report: {Markup.Escape(reportPath)}; results: {Markup.Escape(resultsPath)}");
        if (s.Fast)
        {
            AnsiConsole.MarkupLine("--fast only checks that everything runs: one short epoch leaves the teacher too weak to help; the default run is the comparison.");
        }
        return 0;
    }

    /// <summary>
    /// The quickstart's table: a row per model and training with the final primary metric (mean ± std over seeds), for detection
    /// AP50 and AP75 beside it, the seeds and the time.
    /// </summary>
    internal static Table ResultsTable(string dataset, bool detection, IReadOnlyList<ComparisonRow> rows, string metric)
    {
        var title = dataset switch
        {
            "scenes" => "Scene set test mIoU",
            "detection-scenes" => "Detection scene set test mAP (COCO AP@[.5:.95])",
            _ => "Fashion-MNIST test accuracy",
        };
        var table = new Table().Title(Markup.Escape(title)).AddColumns("model", "training", $"final {metric}");
        if (detection)
        {
            table.AddColumns("AP50", "AP75");
        }

        table.AddColumns("seeds", "time");
        foreach (var row in rows)
        {
            string[] extra = detection ? [MeanStd(row.FinalMetrics, "ap50"), MeanStd(row.FinalMetrics, "ap75")] : [];
            table.AddRow([Markup.Escape(row.Model), Markup.Escape(row.Label), MeanStd(row.FinalAccuracies), .. extra,
                row.FinalAccuracies.Count.ToString(CultureInfo.InvariantCulture), $"{row.Seconds:F0} s"]);
        }

        return table;
    }

    /// <summary>Each run under a progress bar titled as before: "teacher resnet20", "student resnet8 (kd, seed 0)".</summary>
    private static TrainingRun.Summary Display(string label, Distill.Configs.RunConfig run, Func<IProgress<TrainingProgress>?, Action<EpochResult>?, TrainingRun.Summary> train) =>
        TrainingDisplay.Run(label == "teacher" ? $"teacher {run.Student.Model}" : $"student {run.Student.Model} ({label}, seed {run.Train.Seed})", run.Train.Epochs, 0,
            (progress, onEpoch) => train(progress, onEpoch), Distill.Tasks.TrainingTasks.Create(run.Task));

    private static string Percent(double v) => v.ToString("P2", CultureInfo.InvariantCulture);

    /// <summary>"61.20 % ± 1.30" over several runs, "61.20 %" for one, "-" for none.</summary>
    private static string MeanStd(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return "-";
        }

        var (mean, std) = ReportWriter.MeanStd(values);
        return values.Count > 1 ? $"{Percent(mean)} ± {std * 100:F2}" : Percent(mean);
    }

    /// <summary>The final value of metric <paramref name="key"/> of each run, as <see cref="MeanStd(IReadOnlyList{double})"/>.</summary>
    private static string MeanStd(IReadOnlyList<IReadOnlyDictionary<string, double>> finals, string key) =>
        MeanStd([.. finals.Where(f => f.ContainsKey(key)).Select(f => f[key])]);

    /// <summary>The settings as results.json records them (the epochs the recipes ran).</summary>
    private sealed record Settings(int Epochs, int TeacherEpochs, bool Fast, ulong Seed, int Seeds, string Teacher, string Student, string Output, string Methods, string Device, int SoftLabels);
}
