using System.Globalization;
using System.Net;
using System.Text;
using Distill.NN.Metrics;

namespace Distill.Engine.Reporting;

/// <summary>
/// The confusion matrix as a heat map: a cell per (true class, predicted class), shaded by the share of the true class's
/// test samples predicted as that class (each row sums to 100 %), the share written in the cell; several seeds' counts are
/// added up before the shares are taken.
/// </summary>
public sealed class ConfusionMatrixSection : IReportSection
{
    private readonly long[,] _counts;

    /// <summary>Creates the section.</summary>
    /// <param name="classNames">The class names, in label order.</param>
    /// <param name="matrices">Each seed's counts (<see cref="Tasks.TaskEvaluation.Confusion"/>).</param>
    /// <param name="title">The heading (several sections, one per method, tell theirs apart by it).</param>
    /// <exception cref="ArgumentException">There is no matrix, or a matrix's classes are not the names'.</exception>
    public ConfusionMatrixSection(IReadOnlyList<string> classNames, IReadOnlyList<ConfusionMatrix> matrices, string title = "Confusion matrix")
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(matrices);
        ArgumentNullException.ThrowIfNull(title);
        if (matrices.Count == 0)
        {
            throw new ArgumentException("a confusion matrix needs at least one seed's counts", nameof(matrices));
        }

        if (matrices.FirstOrDefault(m => m.Classes != classNames.Count) is { } bad)
        {
            throw new ArgumentException($"a confusion matrix of {bad.Classes} classes does not fit the {classNames.Count} class names", nameof(matrices));
        }

        ClassNames = classNames;
        Title = title;
        var n = classNames.Count;
        var counts = new long[n, n];
        foreach (var m in matrices)
        {
            for (var t = 0; t < n; t++)
            {
                for (var p = 0; p < n; p++)
                {
                    counts[t, p] += m[t, p];
                }
            }
        }

        _counts = counts;
    }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The heading.</summary>
    public string Title { get; }

    /// <summary>The count of class <paramref name="truth"/>'s samples predicted as <paramref name="predicted"/>, added over seeds.</summary>
    public long Count(int truth, int predicted) => _counts[truth, predicted];

    /// <summary>The share of class <paramref name="truth"/>'s samples predicted as <paramref name="predicted"/> (NaN for a class without samples).</summary>
    public double Share(int truth, int predicted)
    {
        long row = 0;
        for (var p = 0; p < ClassNames.Count; p++)
        {
            row += _counts[truth, p];
        }

        return row == 0 ? double.NaN : (double)_counts[truth, predicted] / row;
    }

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        const double LabelWidth = 110, Top = 110, Cell = 40;
        var n = ClassNames.Count;
        var width = LabelWidth + (n * Cell) + 10;
        var height = Top + (n * Cell) + 10;
        xhtml.Append("<h2 class=\"confusion-matrix\">").Append(WebUtility.HtmlEncode(Title)).Append("</h2>\n<p>Rows: true class; columns: predicted class; ")
            .Append("each cell is the share of the row's test samples in %, darker for more.</p>\n");
        xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" class=\"confusion-matrix\">"));
        for (var c = 0; c < n; c++)
        {
            var name = WebUtility.HtmlEncode(ClassNames[c]);
            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth - 4}\" y=\"{Top + (c * Cell) + (Cell / 2) + 4}\" font-size=\"11\" text-anchor=\"end\">{name}</text>"));
            var x = LabelWidth + (c * Cell) + (Cell / 2);
            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{Top - 6}\" font-size=\"11\" transform=\"rotate(-60 {x} {Top - 6})\">{name}</text>"));
        }

        for (var t = 0; t < n; t++)
        {
            for (var p = 0; p < n; p++)
            {
                var share = Share(t, p);
                var x = LabelWidth + (p * Cell);
                var y = Top + (t * Cell);
                // White to dark blue by the share; an empty row is grey.
                var fill = double.IsFinite(share) ? Shade(share) : "#eeeeee";
                xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<rect class=\"cell\" x=\"{x}\" y=\"{y}\" width=\"{Cell}\" height=\"{Cell}\" fill=\"{fill}\" stroke=\"#fff\"/>"));
                if (double.IsFinite(share) && share >= 0.005)
                {
                    xhtml.Append(string.Create(CultureInfo.InvariantCulture,
                        $"<text x=\"{x + (Cell / 2)}\" y=\"{y + (Cell / 2) + 4}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{(share > 0.5 ? "#fff" : "#000")}\">{share * 100:F0}</text>"));
                }
            }
        }

        xhtml.Append("</svg>\n");
    }

    private static string Shade(double share)
    {
        // Linear from white (0) to #08306b (1).
        static int Mix(int to, double s) => (int)Math.Round(255 + ((to - 255) * Math.Clamp(s, 0, 1)));
        return string.Create(CultureInfo.InvariantCulture, $"#{Mix(0x08, share):x2}{Mix(0x30, share):x2}{Mix(0x6b, share):x2}");
    }
}
