using System.Globalization;
using System.Net;
using System.Text;

namespace Distill.Engine.Reporting;

/// <summary>
/// Per-class IoU: a table of classes x runs (mean ± sample std over seeds, the mean alone for one seed, "—" where the
/// class was absent from truth and prediction in every seed), with a last row of the mean over the classes present (the
/// mIoU), and a horizontal bar chart of the same means as inline SVG (a whisker of ± std for several seeds). A seed in
/// which a class is absent (NaN) is left out of that class's mean and std.
/// </summary>
public sealed class PerClassIoUSection : IReportSection
{
    private readonly Kind _kind;

    /// <summary>Creates the section.</summary>
    /// <param name="classNames">The class names, in label order.</param>
    /// <param name="runs">The runs; each seed holds one value per class.</param>
    /// <exception cref="ArgumentException">A run has no seed, or a seed's values are not one per class.</exception>
    public PerClassIoUSection(IReadOnlyList<string> classNames, IReadOnlyList<PerClassIoURun> runs)
        : this(classNames, runs, Kind.IoU)
    {
    }

    /// <summary>
    /// Detection's per-category AP@[.5:.95] (the breakdown of the detection task's evaluation) with its mean, COCO's mAP;
    /// "—" marks a category without ground truth.
    /// </summary>
    public static PerClassIoUSection PerCategoryAp(IReadOnlyList<string> classNames, IReadOnlyList<PerClassIoURun> runs) =>
        new(classNames, runs, Kind.Ap);

    /// <summary>The same figure for another per-class metric (<see cref="PerClassAccuracySection"/>): its headings, notes and class names.</summary>
    internal PerClassIoUSection(IReadOnlyList<string> classNames, IReadOnlyList<PerClassIoURun> runs, Kind kind)
    {
        _kind = kind;
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(runs);
        foreach (var run in runs)
        {
            ArgumentNullException.ThrowIfNull(run);
            if (run.Seeds.Count == 0)
            {
                throw new ArgumentException($"run '{run.Label}' has no seed's per-class {kind.Metric}", nameof(runs));
            }

            if (run.Seeds.FirstOrDefault(s => s.Count != classNames.Count) is { } bad)
            {
                throw new ArgumentException($"run '{run.Label}' has {bad.Count} per-class {kind.Metric} values but there are {classNames.Count} classes", nameof(runs));
            }
        }

        ClassNames = classNames;
        Runs = runs;
    }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The runs (table columns).</summary>
    public IReadOnlyList<PerClassIoURun> Runs { get; }

    /// <summary>A run's mean and std for class <paramref name="c"/> over the seeds where it is present (NaN, NaN when absent in all).</summary>
    public static (double Mean, double Std) Summary(PerClassIoURun run, int c)
    {
        ArgumentNullException.ThrowIfNull(run);
        return ReportWriter.MeanStd([.. run.Seeds.Select(s => s[c]).Where(double.IsFinite)]);
    }

    /// <summary>A run's mIoU (mean over the classes present in each seed), mean and std over seeds.</summary>
    public static (double Mean, double Std) MeanIoU(PerClassIoURun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return ReportWriter.MeanStd([.. run.Seeds.Select(s => s.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average()).Where(double.IsFinite)]);
    }

    /// <summary>How a value shows in the table: "61.20 ± 1.30" (percent) for several seeds, "61.20" for one, "—" when absent.</summary>
    public static string Format((double Mean, double Std) value, int seeds) =>
        !double.IsFinite(value.Mean) ? "—"
        : seeds > 1 ? string.Create(CultureInfo.InvariantCulture, $"{value.Mean * 100:F2} ± {value.Std * 100:F2}")
        : string.Create(CultureInfo.InvariantCulture, $"{value.Mean * 100:F2}");

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        var several = Runs.Any(r => r.Seeds.Count > 1);
        xhtml.Append(_kind.Heading).Append("\n<p>Test ").Append(_kind.Metric).Append(" per class in %").Append(several ? ", mean ± std over seeds" : string.Empty)
            .Append("; — marks ").Append(_kind.Absent).Append(".</p>\n");
        xhtml.Append("<table class=\"").Append(_kind.Class).Append("\"><tr><th>class</th>");
        foreach (var run in Runs)
        {
            xhtml.Append("<th>").Append(WebUtility.HtmlEncode(run.Label)).Append(run.Seeds.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" ({run.Seeds.Count} seeds)") : string.Empty).Append("</th>");
        }

        xhtml.Append("</tr>\n");
        for (var c = 0; c < ClassNames.Count; c++)
        {
            xhtml.Append("<tr><td>").Append(WebUtility.HtmlEncode(ClassNames[c])).Append("</td>");
            foreach (var run in Runs)
            {
                xhtml.Append("<td>").Append(Format(Summary(run, c), run.Seeds.Count)).Append("</td>");
            }

            xhtml.Append("</tr>\n");
        }

        xhtml.Append("<tr><th>").Append(_kind.Mean).Append("</th>");
        foreach (var run in Runs)
        {
            xhtml.Append("<td>").Append(Format(MeanIoU(run), run.Seeds.Count)).Append("</td>");
        }

        xhtml.Append("</tr>\n</table>\n");
        AppendChart(xhtml);
    }

    private void AppendChart(StringBuilder xhtml)
    {
        const double LabelWidth = 130, BarWidth = 380, ValueWidth = 90, Top = 30, Bar = 12, Gap = 8;
        var group = (Runs.Count * Bar) + Gap;
        var height = Top + (ClassNames.Count * group) + 20;
        var width = LabelWidth + BarWidth + ValueWidth;
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height + (Runs.Count * 16)}\" role=\"img\" class=\"{_kind.Class}-chart\">"));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"18\" font-size=\"14\">Test {_kind.Metric} per class (%)</text>"));
        double X(double iou) => LabelWidth + (Math.Clamp(iou, 0, 1) * BarWidth);
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<line x1=\"{LabelWidth}\" y1=\"{Top - 4}\" x2=\"{LabelWidth}\" y2=\"{height - 20}\" stroke=\"#333\"/><line x1=\"{X(1)}\" y1=\"{Top - 4}\" x2=\"{X(1)}\" y2=\"{height - 20}\" stroke=\"#ccc\"/>"));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<text x=\"{LabelWidth}\" y=\"{height - 6}\" font-size=\"11\">0</text><text x=\"{X(1) - 20}\" y=\"{height - 6}\" font-size=\"11\">100</text>"));
        for (var c = 0; c < ClassNames.Count; c++)
        {
            var y0 = Top + (c * group);
            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y0 + (Runs.Count * Bar / 2.0) + 4:F1}\" font-size=\"12\">"))
                .Append(WebUtility.HtmlEncode(ClassNames[c])).Append("</text>");
            for (var r = 0; r < Runs.Count; r++)
            {
                var (mean, std) = Summary(Runs[r], c);
                var y = y0 + (r * Bar);
                var color = ReportWriter.Colors[r % ReportWriter.Colors.Length];
                if (!double.IsFinite(mean))
                {
                    xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + 4}\" y=\"{y + Bar - 2}\" font-size=\"10\" fill=\"{color}\">—</text>"));
                    continue;
                }

                xhtml.Append(string.Create(CultureInfo.InvariantCulture,
                    $"<rect x=\"{LabelWidth}\" y=\"{y + 1}\" width=\"{X(mean) - LabelWidth:F1}\" height=\"{Bar - 2}\" fill=\"{color}\"/>"));
                if (Runs[r].Seeds.Count > 1)
                {
                    xhtml.Append(string.Create(CultureInfo.InvariantCulture,
                        $"<line x1=\"{X(mean - std):F1}\" y1=\"{y + (Bar / 2)}\" x2=\"{X(mean + std):F1}\" y2=\"{y + (Bar / 2)}\" stroke=\"#000\"/>"));
                }

                xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{X(1) + 4}\" y=\"{y + Bar - 2}\" font-size=\"10\" fill=\"{color}\">{Format((mean, std), Runs[r].Seeds.Count)}</text>"));
            }
        }

        for (var r = 0; r < Runs.Count; r++)
        {
            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth}\" y=\"{height + 4 + (r * 16)}\" font-size=\"12\" fill=\"{ReportWriter.Colors[r % ReportWriter.Colors.Length]}\">"))
                .Append(WebUtility.HtmlEncode(Runs[r].Label)).Append("</text>");
        }

        xhtml.Append("</svg>\n");
    }

    /// <summary>How the figure names its metric: the heading, the metric, what "—" means, the mean row and the CSS class.</summary>
    internal sealed record Kind(string Heading, string Metric, string Absent, string Mean, string Class)
    {
        /// <summary>Segmentation's per-class IoU.</summary>
        internal static Kind IoU { get; } = new("<h2>Per-class IoU</h2>", "IoU", "a class absent from both ground truth and prediction", "mIoU", "per-class-iou");

        /// <summary>Detection's per-category AP@[.5:.95] with its mean, COCO's mAP.</summary>
        internal static Kind Ap { get; } = new("<h2>Per-class AP</h2>", "AP", "a class without ground truth in the test set", "mAP", "per-class-ap");
    }
}
