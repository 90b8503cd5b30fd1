using System.Globalization;
using System.Net;
using System.Text;

namespace Distill.Engine.Reporting;

/// <summary>
/// The comparison's bar chart: one horizontal bar per row of the results table at the mean final test metric, with an
/// error bar of ± the sample std over its seeds (none for a row of one seed), the value written beside it.
/// </summary>
public sealed class MethodBarsSection : IReportSection
{
    /// <summary>Creates the section.</summary>
    /// <param name="rows">The results table's rows, one bar each.</param>
    /// <param name="metric">The task's primary metric label (top-1, mIoU, ...).</param>
    public MethodBarsSection(IReadOnlyList<ReportWriter.ResultRow> rows, string metric)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(metric);
        Rows = rows;
        Metric = metric;
    }

    /// <summary>The rows.</summary>
    public IReadOnlyList<ReportWriter.ResultRow> Rows { get; }

    /// <summary>The metric's label.</summary>
    public string Metric { get; }

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        const double LabelWidth = 200, BarWidth = 440, ValueWidth = 120, Top = 30, Bar = 22, Gap = 8;
        var summaries = Rows.Select(r => ReportWriter.MeanStd(r.FinalAccuracies)).ToArray();
        // The axis runs from 0 to the largest mean + std, rounded up to a tenth (a metric in [0, 1]).
        var top = Math.Clamp(Math.Ceiling(summaries.Select(s => s.Mean + s.Std).Where(double.IsFinite).DefaultIfEmpty(1).Max() * 10) / 10, 0.1, 1);
        double X(double v) => LabelWidth + (Math.Clamp(v, 0, top) / top * BarWidth);
        var height = Top + (Rows.Count * (Bar + Gap)) + 24;
        xhtml.Append("<h2 id=\"method-bars\">Methods compared</h2>\n<p>Final test ").Append(WebUtility.HtmlEncode(Metric))
            .Append(Rows.Any(r => r.FinalAccuracies.Count > 1) ? " in %; the error bars show ± the sample standard deviation over seeds.</p>\n" : " in %.</p>\n");
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{LabelWidth + BarWidth + ValueWidth}\" height=\"{height}\" role=\"img\" class=\"method-bars\">"));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"18\" font-size=\"14\">Final test {WebUtility.HtmlEncode(Metric)} (%)</text>"));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<line x1=\"{LabelWidth}\" y1=\"{Top - 4}\" x2=\"{LabelWidth}\" y2=\"{height - 20}\" stroke=\"#333\"/><text x=\"{LabelWidth}\" y=\"{height - 6}\" font-size=\"11\">0</text><text x=\"{X(top) - 20}\" y=\"{height - 6}\" font-size=\"11\">{top * 100:G4}</text>"));
        for (var r = 0; r < Rows.Count; r++)
        {
            var (mean, std) = summaries[r];
            var y = Top + (r * (Bar + Gap));
            var color = ReportWriter.Colors[r % ReportWriter.Colors.Length];
            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y + (Bar / 2) + 4}\" font-size=\"12\">"))
                .Append(WebUtility.HtmlEncode($"{Rows[r].Model} {Rows[r].Training}")).Append("</text>");
            if (!double.IsFinite(mean))
            {
                continue;
            }

            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y}\" width=\"{X(mean) - LabelWidth:F1}\" height=\"{Bar}\" fill=\"{color}\"/>"));
            var seeds = Rows[r].FinalAccuracies.Count;
            if (seeds > 1)
            {
                var (lo, hi, mid) = (X(mean - std), X(mean + std), y + (Bar / 2));
                xhtml.Append(string.Create(CultureInfo.InvariantCulture,
                    $"<g class=\"error-bar\" stroke=\"#000\"><line x1=\"{lo:F1}\" y1=\"{mid}\" x2=\"{hi:F1}\" y2=\"{mid}\"/><line x1=\"{lo:F1}\" y1=\"{mid - 6}\" x2=\"{lo:F1}\" y2=\"{mid + 6}\"/><line x1=\"{hi:F1}\" y1=\"{mid - 6}\" x2=\"{hi:F1}\" y2=\"{mid + 6}\"/></g>"));
            }

            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + BarWidth + 6}\" y=\"{y + (Bar / 2) + 4}\" font-size=\"11\">"))
                .Append(ReportWriter.Percent(mean, std, seeds)).Append("</text>");
        }

        xhtml.Append("</svg>\n");
    }
}
