using System.Globalization;
using System.Net;
using System.Text;
using Distill.Engine.Reporting;

namespace Distill.Engine;

/// <summary>
/// A self-contained report.html (no scripts, no external files; opens offline): test accuracy and total
/// loss curves per epoch as inline SVG, and a results table with mean +/- std over seeds. The markup is
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
    public sealed record Series(string Label, IReadOnlyList<EpochResult> Epochs);

    /// <summary>One table row: a model and training over one or more seeds.</summary>
    /// <param name="Model">The model.</param>
    /// <param name="Training">teacher, alone, kd, ...</param>
    /// <param name="FinalAccuracies">The final test value of the task's primary metric (classification: top-1) of each seed.</param>
    public sealed record ResultRow(string Model, string Training, IReadOnlyList<double> FinalAccuracies);

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
        sb.Append("<h2>Results</h2>\n<table><tr><th>model</th><th>training</th><th>final test ").Append(Escape(metric)).Append(" (mean ± std)</th><th>seeds</th></tr>\n");
        foreach (var row in rows)
        {
            var (mean, std) = MeanStd(row.FinalAccuracies);
            sb.Append("<tr><td>").Append(Escape(row.Model)).Append("</td><td>").Append(Escape(row.Training)).Append("</td><td>")
                .Append(string.Create(CultureInfo.InvariantCulture, $"{mean * 100:F2} ± {std * 100:F2} %")).Append("</td><td>")
                .Append(row.FinalAccuracies.Count.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        }

        sb.Append("</table>\n<div class=\"charts\">\n");
        sb.Append(Chart($"Test {metric} (%)", series, e => e.TestAccuracy * 100));
        sb.Append(Chart("Training loss (sum of the student's weighted terms)", series, e => e.StudentLoss));
        sb.Append("</div>\n");
        foreach (var section in sections ?? [])
        {
            section.AppendTo(sb);
        }

        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static string Chart(string title, IReadOnlyList<Series> series, Func<EpochResult, double> value)
    {
        const double Width = 440, Height = 280, Left = 50, Right = 10, Top = 30, Bottom = 40;
        var points = series.SelectMany(s => s.Epochs.Select(e => (e.Epoch, Value: value(e)))).Where(p => double.IsFinite(p.Value)).ToArray();
        var sb = new StringBuilder();
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height + (series.Count * 16)}\" role=\"img\">"));
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"18\" font-size=\"14\">{Escape(title)}</text>"));
        if (points.Length == 0)
        {
            return sb.Append("</svg>\n").ToString();
        }

        var minX = points.Min(p => p.Epoch);
        var maxX = Math.Max(minX + 1, points.Max(p => p.Epoch));
        var minY = points.Min(p => p.Value);
        var maxY = points.Max(p => p.Value);
        if (maxY - minY < 1e-9)
        {
            maxY = minY + 1;
        }

        double X(double epoch) => Left + ((epoch - minX) / (maxX - minX) * (Width - Left - Right));
        double Y(double v) => Top + ((maxY - v) / (maxY - minY) * (Height - Top - Bottom));
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/>"));
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{Top + 4}\" font-size=\"11\">{maxY:G4}</text><text x=\"4\" y=\"{Height - Bottom}\" font-size=\"11\">{minY:G4}</text>"));
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Height - Bottom + 16}\" font-size=\"11\">epoch {minX}</text><text x=\"{Width - Right - 50}\" y=\"{Height - Bottom + 16}\" font-size=\"11\">epoch {maxX}</text>"));
        for (var i = 0; i < series.Count; i++)
        {
            var color = Colors[i % Colors.Length];
            // A non-finite value (NaN loss, 0/0 rate) has no place on the chart: the curve skips it.
            var finite = series[i].Epochs.Where(e => double.IsFinite(value(e))).ToArray();
            var coords = string.Join(' ', finite.Select(e => string.Create(CultureInfo.InvariantCulture, $"{X(e.Epoch):F1},{Y(value(e)):F1}")));
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{coords}\"/>"));
            foreach (var e in finite)
            {
                sb.Append(string.Create(CultureInfo.InvariantCulture, $"<circle cx=\"{X(e.Epoch):F1}\" cy=\"{Y(value(e)):F1}\" r=\"3\" fill=\"{color}\"/>"));
            }

            sb.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Height + 4 + (i * 16)}\" font-size=\"12\" fill=\"{color}\">{Escape(series[i].Label)}</text>"));
        }

        return sb.Append("</svg>\n").ToString();
    }

    private static string Escape(string s) => WebUtility.HtmlEncode(s);
}
