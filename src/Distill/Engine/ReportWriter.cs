using System.Globalization;
using System.Net;
using System.Text;
using Distill.Engine.Reporting;

namespace Distill.Engine;

/// <summary>
/// A self-contained report.html (no scripts, no external files; opens offline): a results table (mean ± std over seeds,
/// the mean alone for one seed), the test and training metric and the total loss per epoch as inline SVG (a method's
/// seeds as their mean with a band of ± std), a bar chart of the rows with error bars when there are several, and the
/// per-step curves of every loss term and the learning rate when the series carry their step logs. The markup is
/// well-formed XML (XHTML), so tests can parse it. A task may add sections below them (<see cref="IReportSection"/>:
/// segmentation's per-class IoU and example predictions); without sections the markup is what it always was.
/// </summary>
public static class ReportWriter
{
    /// <summary>The curves' colours, in series order (sections colour their runs alike).</summary>
    internal static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"];

    /// <summary>One curve: a label and its epochs.</summary>
    /// <param name="Label">e.g. "resnet8 kd seed 0".</param>
    /// <param name="Epochs">The epoch results in order.</param>
    public sealed record Series(string Label, IReadOnlyList<EpochResult> Epochs)
    {
        /// <summary>The runs drawn as one curve: series of one group (a method's seeds) show their mean with a band of ± the sample std; the label by default.</summary>
        public string Group { get; init; } = Label;

        /// <summary>The run's step log (steps.jsonl: every 10 steps and each epoch's end), drawn as per-step curves; empty when not known.</summary>
        [System.Text.Json.Serialization.JsonIgnore]
        public IReadOnlyList<TrainingProgress> Steps { get; init; } = [];
    }

    /// <summary>One table row: a model and training over one or more seeds.</summary>
    /// <param name="Model">The model.</param>
    /// <param name="Training">teacher, alone, kd, ...</param>
    /// <param name="FinalAccuracies">The final test value of the task's primary metric (classification: top-1) of each seed.</param>
    public sealed record ResultRow(string Model, string Training, IReadOnlyList<double> FinalAccuracies);

    /// <summary>A value in percent as the report shows it: "71.00 ± 1.41 %" for several seeds, "71.00 %" for one (one run has no spread).</summary>
    public static string Percent(double mean, double std, int seeds) =>
        seeds > 1 ? string.Create(CultureInfo.InvariantCulture, $"{mean * 100:F2} ± {std * 100:F2} %") : string.Create(CultureInfo.InvariantCulture, $"{mean * 100:F2} %");

    /// <summary>Mean and sample standard deviation (0 for one value).</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return (double.NaN, double.NaN);
        }

        var mean = values.Average();
        var std = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return (mean, std);
    }

    /// <summary>Writes the report atomically.</summary>
    /// <param name="path">The report's file.</param>
    /// <param name="title">Its title.</param>
    /// <param name="series">The curves.</param>
    /// <param name="rows">The results table's rows.</param>
    /// <param name="metric">How the task labels its primary metric (<see cref="Tasks.ITrainingTask.PrimaryMetricLabel"/>).</param>
    /// <param name="sections">Sections below the curves, in order (<see cref="PerClassIoUSection"/>, <see cref="PredictionExamplesSection"/>); none when null.</param>
    public static void Write(string path, string title, IReadOnlyList<Series> series, IReadOnlyList<ResultRow> rows, string metric = "top-1",
        IReadOnlyList<IReportSection>? sections = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(rows);
        var html = Render(title, series, rows, metric, sections);
        NN.Checkpoints.SafeTensors.WriteAtomically(path, s => s.Write(Encoding.UTF8.GetBytes(html)));
    }

    /// <summary>The report's markup; <paramref name="metric"/> labels the task's primary metric in the table and the chart, <paramref name="sections"/> follow the curves.</summary>
    public static string Render(string title, IReadOnlyList<Series> series, IReadOnlyList<ResultRow> rows, string metric = "top-1",
        IReadOnlyList<IReportSection>? sections = null)
    {
        ArgumentNullException.ThrowIfNull(metric);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/><title>")
            .Append(Escape(title)).Append("</title><style>body{font-family:sans-serif;margin:2em;max-width:980px}table{border-collapse:collapse}")
            .Append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,td:nth-child(2),th{text-align:left}")
            .Append(".charts{display:flex;gap:2em;flex-wrap:wrap}</style></head><body>\n<h1>").Append(Escape(title)).Append("</h1>\n");
        var several = rows.Any(r => r.FinalAccuracies.Count > 1);
        sb.Append("<h2 id=\"results\">Results</h2>\n<table><tr><th>model</th><th>training</th><th>final test ").Append(Escape(metric)).Append(several ? " (mean ± std)" : string.Empty).Append("</th><th>seeds</th></tr>\n");
        foreach (var row in rows)
        {
            var (mean, std) = MeanStd(row.FinalAccuracies);
            sb.Append("<tr><td>").Append(Escape(row.Model)).Append("</td><td>").Append(Escape(row.Training)).Append("</td><td>")
                .Append(Percent(mean, std, row.FinalAccuracies.Count)).Append("</td><td>")
                .Append(row.FinalAccuracies.Count.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        }

        sb.Append("</table>\n<div class=\"charts\" id=\"epoch-curves\">\n");
        Chart(sb, $"{metric} per epoch (%): test solid, train dashed", series, [e => e.TestAccuracy * 100, e => e.TrainAccuracy * 100], "epoch-metric");
        Chart(sb, "Training loss per epoch (the student's total)", series, [e => e.StudentLoss], "epoch-loss");
        sb.Append("</div>\n");
        if (rows.Count > 1)
        {
            new MethodBarsSection(rows, metric).AppendTo(sb);
        }

        if (series.Any(s => s.Steps.Count > 0))
        {
            new StepCurvesSection(series).AppendTo(sb);
        }

        foreach (var section in sections ?? [])
        {
            section.AppendTo(sb);
        }

        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    /// <summary>One chart of <paramref name="values"/> per epoch (the first solid, the others dashed), a curve per group of series.</summary>
    private static void Chart(StringBuilder sb, string title, IReadOnlyList<Series> series, IReadOnlyList<Func<EpochResult, double>> values, string cssClass)
    {
        var lines = new List<SvgLineChart.Line>();
        var groups = series.GroupBy(s => s.Group).ToArray();
        for (var g = 0; g < groups.Length; g++)
        {
            var runs = groups[g].ToArray();
            var color = Colors[g % Colors.Length];
            for (var v = 0; v < values.Count; v++)
            {
                var value = values[v];
                var (mean, band) = SvgLineChart.Aggregate([.. runs.Select(r => (IReadOnlyList<(double, double)>)[.. r.Epochs.Select(e => ((double)e.Epoch, value(e)))])]);
                var label = v > 0 ? null : runs.Length > 1 ? string.Create(CultureInfo.InvariantCulture, $"{groups[g].Key} (mean ± std of {runs.Length} seeds)") : runs[0].Label;
                lines.Add(new SvgLineChart.Line(label, color, mean, Dashed: v > 0, Band: band));
            }
        }

        SvgLineChart.Append(sb, title, "epoch", lines, cssClass);
    }

    private static string Escape(string s) => WebUtility.HtmlEncode(s);
}
