using System.Globalization;
using System.Text;
using System.Text.Json;
using Distill.Configs;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Torch;

namespace Distill.Engine.Comparison;

/// <summary>
/// Recipes x methods x seeds -> table and report, the pipeline of `distill compare` and `distill quickstart`:
/// <see cref="Plan"/> resolves every run's recipe first (so a bad option fails before the first, long, run),
/// <see cref="Execute"/> trains each through <see cref="TrainingRun"/> (a run folder per method and seed), and
/// <see cref="Write"/> writes results.md, results.json and report.html.
/// </summary>
public static class ComparisonRun
{
    /// <summary>
    /// A new folder name under <paramref name="parent"/>: "<paramref name="prefix"/>-yyyyMMdd-HHmmss" of
    /// <paramref name="now"/>, with "-2", "-3", ... appended while that name is taken (two runs started in the same second).
    /// </summary>
    public static string FreshFolder(string parent, string prefix, DateTime now)
    {
        var stem = Path.Combine(parent, $"{prefix}-{now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)}");
        var folder = stem;
        for (var n = 2; Directory.Exists(folder) || File.Exists(folder); n++)
        {
            folder = $"{stem}-{n}";
        }

        return folder;
    }

    /// <summary>The table's columns (<see cref="Table"/>'s cells) for a classification comparison, as results.md and `distill compare` show them.</summary>
    public static IReadOnlyList<string> TableHeader { get; } = Header("top-1");

    /// <summary>The table's columns, the final value labelled by the task's name for its primary metric (<see cref="ComparisonResult.Metric"/>).</summary>
    public static IReadOnlyList<string> Header(string metric) => Header(metric, spread: true);

    /// <summary>The table's column names for <paramref name="rows"/>: the metric's column says "(mean ± std)" only when a row has more than one run.</summary>
    public static IReadOnlyList<string> Header(string metric, IEnumerable<ComparisonRow> rows) =>
        Header(metric, (rows ?? throw new ArgumentNullException(nameof(rows))).Any(r => r.FinalAccuracies.Count > 1));

    private static IReadOnlyList<string> Header(string metric, bool spread) =>
        ["method", spread ? $"final test {metric} (mean ± std)" : $"final test {metric}", "runs", "train images/s", "step time vs kd"];

    /// <summary>
    /// Every run's recipe: <paramref name="load"/> (a recipe file or text with overrides) with <paramref name="sets"/>, then the
    /// method's name and options, the seed and the output folder (output/label/seedN).
    /// </summary>
    /// <param name="load">Reads the recipe with the given "key=value" overrides, in order.</param>
    /// <param name="sets">Overrides of every run (e.g. train.epochs=1).</param>
    /// <param name="methods">The methods, one row each.</param>
    /// <param name="seeds">train.seed of each run of a method.</param>
    /// <param name="output">The comparison's folder.</param>
    /// <exception cref="ConfigException">A recipe, an override or a method option is invalid (the message names it).</exception>
    public static IReadOnlyList<ComparisonEntry> Plan(Func<IReadOnlyList<string>, RunConfig> load, IReadOnlyList<string> sets, IReadOnlyList<ComparisonMethod> methods,
        IReadOnlyList<int> seeds, string output)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(seeds);
        return [.. methods.Select(m => new ComparisonEntry(m, [.. seeds.Select(seed => load(
        [
            .. sets, $"method.name={m.Name}", .. m.Options.Select(o => "method." + o), $"train.seed={seed.ToString(CultureInfo.InvariantCulture)}",
            $"output={Path.Combine(output, Slug(m.Label), $"seed{seed.ToString(CultureInfo.InvariantCulture)}")}",
        ]))]))];
    }

    /// <summary>Trains every run of every entry, in order, and gathers the rows (final top-1 per seed, time, images/s) and curves.</summary>
    /// <param name="entries">The plan.</param>
    /// <param name="display">Shows each run while it trains (nothing when null).</param>
    /// <param name="teacher">
    /// A teacher in memory shared by every run that needs one (the caller disposes it); when null, each run loads its
    /// recipe's teacher.checkpoint as `distill train` does.
    /// </param>
    public static ComparisonResult Execute(IReadOnlyList<ComparisonEntry> entries, ComparisonDisplay? display = null, TappedModel<Tensor>? teacher = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var rows = new List<ComparisonRow>();
        var series = new List<ReportWriter.Series>();
        foreach (var entry in entries)
        {
            var finals = new List<double>();
            var metrics = new List<IReadOnlyDictionary<string, double>>();
            var speeds = new List<double>();
            var breakdowns = new List<IReadOnlyList<double>>();
            var confusions = new List<NN.Metrics.ConfusionMatrix>();
            IReadOnlyList<Reporting.PredictionExample> examples = [];
            IReadOnlyList<Reporting.DetectionExample> detectionExamples = [];
            IReadOnlyList<string> classNames = [];
            double seconds = 0;
            foreach (var run in entry.Runs)
            {
                var (summary, time) = Train(entry.Method.Label, run, display, teacher);
                finals.Add(summary.Epochs[^1].TestAccuracy);
                metrics.Add(summary.Epochs[^1].Metrics);
                if (summary.FinalEvaluation is { } evaluation)
                {
                    breakdowns.Add(evaluation.Breakdown);
                    confusions.AddRange(evaluation.Confusion is { } confusion ? [confusion] : []);
                    examples = examples.Count == 0 ? summary.Examples : examples;
                    detectionExamples = detectionExamples.Count == 0 ? summary.DetectionExamples : detectionExamples;
                    classNames = summary.ClassNames;
                }

                speeds.AddRange(summary.Epochs.Select(e => e.ImagesPerSecond));
                seconds += time;
                series.Add(new ReportWriter.Series($"{run.Student.Model} {entry.Method.Label} seed {run.Train.Seed.ToString(CultureInfo.InvariantCulture)}", summary.Epochs)
                {
                    Group = $"{run.Student.Model} {entry.Method.Label}",
                    Steps = RunFolder.ReadSteps(run.Output),
                });
            }

            rows.Add(new ComparisonRow(entry.Runs[0].Student.Model, entry.Method.Label, finals, seconds, speeds.Count == 0 ? double.NaN : speeds.Average())
            {
                Breakdowns = breakdowns,
                Confusions = confusions,
                FinalMetrics = metrics,
                Examples = examples,
                DetectionExamples = detectionExamples,
                ClassNames = classNames,
            });
        }

        return new ComparisonResult(rows, series)
        {
            Metric = Metric(entries),
            Recipe = entries.SelectMany(e => e.Runs).Select(ConfigWriter.ToYaml).FirstOrDefault() ?? string.Empty,
            Seeds = [.. entries.SelectMany(e => e.Runs).Select(r => r.Train.Seed).Distinct()],
        };
    }

    /// <summary>Trains one run (shown by <paramref name="display"/>) and measures its wall time.</summary>
    internal static (TrainingRun.Summary Summary, double Seconds) Train(string label, RunConfig run, ComparisonDisplay? display, TappedModel<Tensor>? teacher, bool resume = false)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TrainingRun.Summary Work(IProgress<TrainingProgress>? progress, Action<EpochResult>? onEpoch) => TrainingRun.Execute(run, teacher, resume, progress, onEpoch, null);
        var summary = display is null ? Work(null, null) : display(label, run, Work);
        return (summary, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The table's cells per row (<see cref="TableHeader"/>): label, mean ± sample std of the final primary metric in percent (no ± for one run), runs,
    /// images/s, and the step time against the row labelled "kd" ("-" without one, or for a row that trained nothing).
    /// </summary>
    public static IReadOnlyList<string[]> Table(IReadOnlyList<ComparisonRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var kd = rows.FirstOrDefault(r => r.Label == "kd");
        return [.. rows.Select(row =>
        {
            var (mean, std) = ReportWriter.MeanStd(row.FinalAccuracies);
            var trained = double.IsFinite(row.ImagesPerSecond) && row.ImagesPerSecond > 0;
            return new[]
            {
                row.Label,
                // One run has no spread to show.
                row.FinalAccuracies.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $"{mean * 100:F2} ± {std * 100:F2} %")
                    : string.Create(CultureInfo.InvariantCulture, $"{mean * 100:F2} %"),
                row.FinalAccuracies.Count.ToString(CultureInfo.InvariantCulture),
                trained ? row.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture) : "-",
                kd is null || !trained ? "-" : string.Create(CultureInfo.InvariantCulture, $"{((kd.ImagesPerSecond / row.ImagesPerSecond) - 1) * 100:+0;-0} %"),
            };
        })];
    }

    /// <summary>
    /// Writes results.md (<see cref="Table"/>), report.html (<see cref="ReportWriter"/>: curves and mean ± std) and results.json
    /// into <paramref name="folder"/>. results.json lists the rows (method, final_accuracies, images_per_second); with
    /// <paramref name="settings"/> it is an object of the settings, the rows (Model, Method, Finals, Seconds) and every curve.
    /// </summary>
    /// <returns>The paths of results.md, report.html and results.json.</returns>
    public static (string Markdown, string Report, string Json) Write(string folder, string title, ComparisonResult result, object? settings = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(folder);
        var header = Header(result.Metric, result.Rows);
        var markdown = new StringBuilder($"| {string.Join(" | ", header)} |\n|{string.Concat(header.Select(_ => "---|"))}\n");
        foreach (var cells in Table(result.Rows))
        {
            markdown.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");
        }

        var paths = (Path.Combine(folder, "results.md"), Path.Combine(folder, "report.html"), Path.Combine(folder, "results.json"));
        File.WriteAllText(paths.Item1, markdown.ToString());
        ReportWriter.Write(paths.Item2, title, result.Series, [.. result.Rows.Select(r => new ReportWriter.ResultRow(r.Model, r.Label, r.FinalAccuracies))], result.Metric,
            [.. Sections(result.Rows, result.Metric), .. result.Recipe.Length > 0 ? [new Reporting.RunInfoSection(result.Recipe, Reporting.RunInfoSection.Environment(result.Seeds))] : Array.Empty<Reporting.IReportSection>()]);
        if (settings is null)
        {
            File.WriteAllText(paths.Item3, JsonSerializer.Serialize(result.Rows.Select(r => new { method = r.Label, final_accuracies = r.FinalAccuracies, images_per_second = r.ImagesPerSecond }), RunLogJson.Options));
        }
        else
        {
            var rows = result.Rows.Select(r => new { r.Model, Method = r.Label, Finals = r.FinalAccuracies, r.Seconds });
            SafeTensors.WriteAtomically(paths.Item3, stream => JsonSerializer.Serialize(stream, new { settings, rows, series = result.Series }, RunLogJson.Indented));
        }

        return paths;
    }

    /// <summary>
    /// The report's task sections: per-class values of every row that has them (mean ± std over its seeds) and each row's example
    /// predictions (its first seed); none for a task without them. Detection (primary metric mAP) shows per-category AP and example detections.
    /// </summary>
    private static IReadOnlyList<Reporting.IReportSection> Sections(IReadOnlyList<ComparisonRow> rows, string metric)
    {
        var broken = rows.Where(r => r.Breakdowns.Count > 0).ToArray();
        if (broken.Length == 0)
        {
            return [];
        }

        var names = broken[0].ClassNames;
        if (metric == Tasks.Detection.DetectionTask.Default.PrimaryMetricLabel)
        {
            return
            [
                Reporting.PerClassIoUSection.PerCategoryAp(names, [.. broken.Select(r => new Reporting.PerClassIoURun(r.Label, r.Breakdowns))]),
                .. rows.Where(r => r.DetectionExamples.Count > 0).Select(r => new Reporting.DetectionExamplesSection(r.DetectionExamples, names, title: $"Example detections: {r.Model} {r.Label}")),
            ];
        }

        if (rows.Any(r => r.Confusions.Count > 0))
        {
            // Classification: per-class accuracy of every row that has it, and each row's confusion matrix over its seeds.
            return
            [
                new Reporting.PerClassAccuracySection(names, [.. broken.Select(r => new Reporting.PerClassIoURun(r.Label, r.Breakdowns))]),
                .. rows.Where(r => r.Confusions.Count > 0).Select(r => new Reporting.ConfusionMatrixSection(names, r.Confusions,
                    r.Confusions.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $"Confusion matrix: {r.Model} {r.Label} ({r.Confusions.Count} seeds added up)") : $"Confusion matrix: {r.Model} {r.Label}")),
            ];
        }

        return
        [
            new Reporting.PerClassIoUSection(names, [.. broken.Select(r => new Reporting.PerClassIoURun(r.Label, r.Breakdowns))]),
            .. rows.Where(r => r.Examples.Count > 0).Select(r => new Reporting.PredictionExamplesSection(r.Examples, names, title: $"Example predictions: {r.Model} {r.Label}")),
        ];
    }

    /// <summary>A label as a folder name: letters, digits, '+' and '-' kept, anything else '_'.</summary>
    internal static string Slug(string label) => new([.. label.Select(c => char.IsLetterOrDigit(c) || c is '+' or '-' ? c : '_')]);

    /// <summary>The label of the runs' task's primary metric (every run of a comparison trains the same recipe's task).</summary>
    private static string Metric(IReadOnlyList<ComparisonEntry> entries) =>
        entries.SelectMany(e => e.Runs).Select(r => Tasks.TrainingTasks.Create(r.Task).PrimaryMetricLabel).FirstOrDefault() ?? "top-1";
}
