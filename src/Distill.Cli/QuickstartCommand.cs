using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Parity;
using Distill.Torch;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>
/// `distill quickstart`: on Fashion-MNIST, trains a teacher (cached for later runs), the student alone and
/// the student with KD from the same initial weights, then prints the comparison and writes the results.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var command = new Command("quickstart", "Train a teacher, a student alone and a student with KD on Fashion-MNIST, and compare them.");
        var epochs = new Option<int>("--epochs") { Description = "Student epochs.", DefaultValueFactory = _ => 2 };
        var teacherEpochs = new Option<int>("--teacher-epochs") { Description = "Teacher epochs (the trained teacher is cached).", DefaultValueFactory = _ => 3 };
        var fast = new Option<bool>("--fast") { Description = "A one-minute smoke run: 6,000 training images, 1 epoch each." };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, order and augmentation (the first of --seeds).", DefaultValueFactory = _ => 0 };
        var seeds = new Option<int>("--seeds") { Description = "Student runs per training (seeds seed, seed+1, ...); the table shows mean +/- std.", DefaultValueFactory = _ => 1 };
        var teacher = new Option<string>("--teacher") { Description = "Teacher model.", DefaultValueFactory = _ => "resnet20" };
        var student = new Option<string>("--student") { Description = "Student model.", DefaultValueFactory = _ => "resnet8" };
        var output = new Option<string>("--output") { Description = "Folder for results and the teacher cache.", DefaultValueFactory = _ => "runs" };
        var methods = new Option<string>("--methods")
        {
            Description = "Distillation methods to compare with the student alone, e.g. kd,dkd:warmup=2,tfd (see `distill methods`).",
            DefaultValueFactory = _ => "kd",
        };
        foreach (var o in new Option[] { epochs, teacherEpochs, fast, seed, seeds, teacher, student, output, methods })
        {
            command.Options.Add(o);
        }

        var device = DeviceOption.Create();
        command.Options.Add(device);
        CliChecks.AtLeast(epochs, 1);
        CliChecks.AtLeast(teacherEpochs, 1);
        CliChecks.AtLeast(seeds, 1);
        command.SetAction(r => Run(new Settings(
            r.GetValue(fast) ? 1 : r.GetValue(epochs),
            r.GetValue(fast) ? 1 : r.GetValue(teacherEpochs),
            r.GetValue(fast),
            (ulong)r.GetValue(seed),
            r.GetValue(seeds),
            r.GetValue(teacher)!,
            r.GetValue(student)!,
            r.GetValue(output)!,
            r.GetValue(methods)!,
            r.GetValue(device) ?? "cpu")));
        return command;
    }

    private static int Run(Settings s)
    {
        CliChecks.Model("--teacher", s.Teacher);
        CliChecks.Model("--student", s.Student);
        CliChecks.OutputFolder("--output", s.Output);
        List<(string Label, Distill.Configs.MethodConfig Config)> methodConfigs;
        try
        {
            methodConfigs = MethodList.Parse("--methods", s.Methods).Select(m => (m.Label, MethodCheck.Options(m.Name, m.Options))).ToList();
        }
        catch (Distill.Configs.ConfigException e) when (!e.Message.StartsWith("--methods", StringComparison.Ordinal))
        {
            throw new Distill.Configs.ConfigException($"--methods: {e.Message}", e);
        }

        if (!Directory.Exists(IdxReader.FashionMnistDirectory))
        {
            throw new Distill.Configs.ConfigException($"Fashion-MNIST is not installed at {IdxReader.FashionMnistDirectory}: run eng/setup.sh (package dataset-fashion-mnist)");
        }

        // libtorch's OpenMP default here is one thread; the machine has more cores. OMP_NUM_THREADS, when set, wins.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_NUM_THREADS")))
        {
            TorchRuntime.Threads = Environment.ProcessorCount;
        }

        var device = RunDevice.Resolve(s.Device, "--device");
        var train = IdxReader.LoadFashionMnist(train: true);
        var test = IdxReader.LoadFashionMnist(train: false);
        if (s.Fast)
        {
            train = train.Take(6000);
            test = test.Take(2000);
        }

        var augment = new Compose(new RandomCrop(28, padding: 2), new RandomHorizontalFlip(), Normalize.FashionMnist);
        const int BatchSize = 128;
        var trainLoader = new DataLoader(train, BatchSize, shuffle: true, seed: s.Seed, transform: augment) { Device = device };
        var testLoader = new DataLoader(test, 256, transform: Normalize.FashionMnist) { Device = device };
        var runDirectory = Path.Combine(s.Output, $"quickstart-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(runDirectory);
        AnsiConsole.MarkupLine($"[bold]Distill quickstart[/]: Fashion-MNIST ({train.Count:N0} train / {test.Count:N0} test), teacher [bold]{s.Teacher}[/], student [bold]{s.Student}[/], seed {s.Seed}");
        AnsiConsole.MarkupLine($"libtorch {TorchRuntime.LibTorchVersion}, {TorchRuntime.Threads} thread(s); results in {Markup.Escape(runDirectory)}");

        var rows = new List<Row>();
        var series = new List<ReportWriter.Series>();
        var options = new ModelOptions(NumClasses: 10, InChannels: 1, ImageSize: 28);
        using var teacherModel = TrainOrLoadTeacher(s, options, trainLoader, testLoader, rows, series);
        var labels = Enumerable.Range(0, train.Count).Select(train.LabelOf).ToArray();
        var methods = new List<(string Label, Func<ClassificationModel, Distiller?> Create)> { ("alone", _ => new NoDistillation()) };
        methods.AddRange(methodConfigs.Select(m => (m.Label, (Func<ClassificationModel, Distiller?>)(studentModel =>
            MethodBuilder.Create(m.Config, MethodContext.FromModels(studentModel, teacherModel, options, labels))))));
        foreach (var (label, method) in methods)
        {
            var finals = new List<double>();
            double seconds = 0;
            for (var k = 0; k < s.Seeds; k++)
            {
                var seed = s.Seed + (ulong)k;
                TorchRuntime.ManualSeed(seed);
                using var studentModel = ModelRegistry.Create(s.Student, options);
                using var distiller = method(studentModel);
                var loader = new DataLoader(train, BatchSize, shuffle: true, seed: seed, transform: augment) { Device = device };
                var (results, time) = Train($"student {s.Student} ({label}, seed {seed})", studentModel, distiller is { NeedsTeacher: true } ? teacherModel : null, distiller, s.Epochs, loader, testLoader);
                finals.Add(results[^1].TestAccuracy);
                seconds += time;
                series.Add(new ReportWriter.Series($"{s.Student} {label} seed {seed}", results));
            }

            rows.Add(new Row(s.Student, label, finals, seconds));
        }

        var table = new Table().Title("Fashion-MNIST test accuracy").AddColumns("model", "training", "final top-1", "seeds", "time");
        foreach (var row in rows)
        {
            var (mean, std) = ReportWriter.MeanStd(row.Finals);
            table.AddRow(row.Model, row.Method, row.Finals.Count > 1 ? $"{Percent(mean)} ± {std * 100:F2}" : Percent(mean),
                row.Finals.Count.ToString(CultureInfo.InvariantCulture), $"{row.Seconds:F0} s");
        }

        AnsiConsole.Write(table);
        var reportPath = Path.Combine(runDirectory, "report.html");
        ReportWriter.Write(reportPath, $"Distill quickstart: {s.Student} from {s.Teacher} on Fashion-MNIST", series,
            rows.Select(r => new ReportWriter.ResultRow(r.Model, r.Method, r.Finals)).ToArray());
        var resultsPath = Path.Combine(runDirectory, "results.json");
        SafeTensors.WriteAtomically(resultsPath, stream => JsonSerializer.Serialize(stream, new { settings = s, rows, series }, RunLogJson.Indented));
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

    private static ClassificationModel TrainOrLoadTeacher(Settings s, ModelOptions options, DataLoader train, DataLoader test, List<Row> rows, List<ReportWriter.Series> series)
    {
        var cacheDirectory = Path.Combine(s.Output, "cache");
        var key = string.Create(CultureInfo.InvariantCulture, $"fashion-{s.Teacher}-e{s.TeacherEpochs}-s{s.Seed}{(s.Fast ? "-fast" : string.Empty)}");
        var path = Path.Combine(cacheDirectory, $"teacher-{key}.safetensors");
        TorchRuntime.ManualSeed(s.Seed);
        var teacher = ModelRegistry.Create(s.Teacher, options);
        teacher.To(train.Device);
        if (File.Exists(path))
        {
            using var scope = DisposeScope.Enter();
            using var file = SafeTensors.Load(path);
            teacher.LoadStateDict(file.Tensors);
            var accuracy = Evaluator.Accuracy(teacher, test);
            AnsiConsole.MarkupLine($"teacher {s.Teacher}: loaded from the cache ({Markup.Escape(path)}), test top-1 {Percent(accuracy)}");
            rows.Add(new Row(s.Teacher, "teacher (cached)", [accuracy], 0));
            return teacher;
        }

        var (results, seconds) = Train($"teacher {s.Teacher}", teacher, null, null, s.TeacherEpochs, train, test);
        using (DisposeScope.Enter())
        {
            SafeTensors.Save(path, teacher.StateDict(), new Dictionary<string, string> { ["test_accuracy"] = results[^1].TestAccuracy.ToString("R", CultureInfo.InvariantCulture) });
        }

        rows.Add(new Row(s.Teacher, "teacher", [results[^1].TestAccuracy], seconds));
        series.Add(new ReportWriter.Series($"{s.Teacher} teacher", results));
        return teacher;
    }

    private static (IReadOnlyList<EpochResult> Results, double Seconds) Train(string title, ClassificationModel student, ClassificationModel? teacher, Distiller? distiller,
        int epochs, DataLoader train, DataLoader test)
    {
        // Models are made on the host (same weights for a seed on every device) and moved to the batches' device.
        student.To(train.Device);
        distiller?.To(train.Device);
        var options = new TrainerOptions { Epochs = epochs, LearningRate = 0.05, Schedule = "cosine", Device = train.Device };
        using var trainer = new Trainer(student, teacher, distiller, options);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = TrainingDisplay.Run(title, epochs, train.BatchCount, (progress, onEpoch) => trainer.Fit(train, test, progress, onEpoch));
        return (results, clock.Elapsed.TotalSeconds);
    }

    private static string Percent(double v) => v.ToString("P2", CultureInfo.InvariantCulture);

    private sealed record Settings(int Epochs, int TeacherEpochs, bool Fast, ulong Seed, int Seeds, string Teacher, string Student, string Output, string Methods, string Device);

    private sealed record Row(string Model, string Method, IReadOnlyList<double> Finals, double Seconds);

}
