using System.Globalization;
using System.Net;
using System.Text;

namespace Distill.Engine.Reporting;

/// <summary>
/// A line chart as inline SVG, shared by the report's curves: each line is drawn solid or dashed in its colour, with a
/// shaded band (e.g. mean ± std over seeds) where it has one; non-finite points are left out; the axes are labelled with
/// the smallest and largest values; the legend lists the labelled lines under the plot.
/// </summary>
internal static class SvgLineChart
{
    /// <summary>One line: its points in x order, and optionally a band of the same length (lower and upper values).</summary>
    internal sealed record Line(string? Label, string Color, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false,
        IReadOnlyList<(double Lower, double Upper)>? Band = null, bool Markers = true);

    /// <summary>Appends the chart.</summary>
    /// <param name="xhtml">Where.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="xLabel">What x counts ("epoch", "step").</param>
    /// <param name="lines">The lines.</param>
    /// <param name="cssClass">The svg element's class.</param>
    internal static void Append(StringBuilder xhtml, string title, string xLabel, IReadOnlyList<Line> lines, string cssClass)
    {
        const double Width = 440, Height = 280, Left = 50, Right = 10, Top = 30, Bottom = 40;
        var labelled = lines.Where(l => l.Label is not null).ToArray();
        var values = lines.SelectMany(l => l.Points.Select(p => p.Y).Concat(l.Band?.SelectMany(b => new[] { b.Lower, b.Upper }) ?? [])).Where(double.IsFinite).ToArray();
        var xs = lines.SelectMany(l => l.Points.Where(p => double.IsFinite(p.Y)).Select(p => p.X)).ToArray();
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height + (labelled.Length * 16)}\" role=\"img\" class=\"{cssClass}\">"));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"18\" font-size=\"14\">{WebUtility.HtmlEncode(title)}</text>"));
        if (values.Length == 0 || xs.Length == 0)
        {
            xhtml.Append("</svg>\n");
            return;
        }

        var minX = xs.Min();
        var maxX = Math.Max(minX + 1, xs.Max());
        var minY = values.Min();
        var maxY = values.Max();
        if (maxY - minY < 1e-9)
        {
            maxY = minY + 1;
        }

        double X(double x) => Left + ((x - minX) / (maxX - minX) * (Width - Left - Right));
        double Y(double v) => Top + ((maxY - v) / (maxY - minY) * (Height - Top - Bottom));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/>"));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{Top + 4}\" font-size=\"11\">{maxY:G4}</text><text x=\"4\" y=\"{Height - Bottom}\" font-size=\"11\">{minY:G4}</text>"));
        xhtml.Append(string.Create(CultureInfo.InvariantCulture,
            $"<text x=\"{Left}\" y=\"{Height - Bottom + 16}\" font-size=\"11\">{xLabel} {minX:G6}</text><text x=\"{Width - Right - 70}\" y=\"{Height - Bottom + 16}\" font-size=\"11\">{xLabel} {maxX:G6}</text>"));
        foreach (var line in lines)
        {
            if (line.Band is { } band)
            {
                // The band's outline: along the upper values, back along the lower ones (points with a non-finite bound are left out).
                var edges = line.Points.Zip(band).Where(p => double.IsFinite(p.Second.Lower) && double.IsFinite(p.Second.Upper)).ToArray();
                if (edges.Length > 1)
                {
                    var outline = edges.Select(p => (p.First.X, p.Second.Upper)).Concat(edges.Reverse().Select(p => (p.First.X, p.Second.Lower)));
                    xhtml.Append("<polygon class=\"band\" fill=\"").Append(line.Color).Append("\" fill-opacity=\"0.2\" stroke=\"none\" points=\"")
                        .Append(string.Join(' ', outline.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Item1):F1},{Y(p.Item2):F1}")))).Append("\"/>");
                }
            }

            var finite = line.Points.Where(p => double.IsFinite(p.Y)).ToArray();
            var coords = string.Join(' ', finite.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.X):F1},{Y(p.Y):F1}")));
            xhtml.Append(string.Create(CultureInfo.InvariantCulture,
                $"<polyline fill=\"none\" stroke=\"{line.Color}\" stroke-width=\"2\"{(line.Dashed ? " stroke-dasharray=\"5,3\"" : string.Empty)} points=\"{coords}\"/>"));
            if (line.Markers)
            {
                foreach (var p in finite)
                {
                    xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<circle cx=\"{X(p.X):F1}\" cy=\"{Y(p.Y):F1}\" r=\"3\" fill=\"{line.Color}\"/>"));
                }
            }
        }

        for (var i = 0; i < labelled.Length; i++)
        {
            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Height + 4 + (i * 16)}\" font-size=\"12\" fill=\"{labelled[i].Color}\">{WebUtility.HtmlEncode(labelled[i].Label!)}</text>"));
        }

        xhtml.Append("</svg>\n");
    }

    /// <summary>
    /// The mean and mean ± sample std at each x that every one of <paramref name="runs"/> has (runs of one group, e.g. a
    /// method's seeds), in x order; one run gives its own points and no band.
    /// </summary>
    internal static (IReadOnlyList<(double X, double Y)> Mean, IReadOnlyList<(double Lower, double Upper)>? Band) Aggregate(IReadOnlyList<IReadOnlyList<(double X, double Y)>> runs)
    {
        if (runs.Count == 1)
        {
            return (runs[0], null);
        }

        var byX = runs.Select(r => r.GroupBy(p => p.X).ToDictionary(g => g.Key, g => g.Last().Y)).ToArray();
        var shared = byX.Skip(1).Aggregate(new HashSet<double>(byX[0].Keys), (set, next) => { set.IntersectWith(next.Keys); return set; }).Order().ToArray();
        var mean = new List<(double, double)>();
        var band = new List<(double, double)>();
        foreach (var x in shared)
        {
            var (m, s) = ReportWriter.MeanStd([.. byX.Select(d => d[x])]);
            mean.Add((x, m));
            band.Add((m - s, m + s));
        }

        return (mean, band);
    }
}
