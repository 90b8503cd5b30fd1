using System.Globalization;
using System.Net;
using System.Text;

namespace Distill.Engine.Reporting;

/// <summary>
/// The example-detections figure: one row per test image (input with its ground-truth boxes, the teacher's detections when
/// there is one, the student's), each picture the input upscaled by one integer factor (nearest, as
/// <see cref="PredictionExamplesSection"/> draws its pictures) in inline SVG with the boxes drawn over it, each box in its
/// class's colour (<see cref="SegmentationPalette"/> without the background colour) and labelled with the class name (and a
/// detection's score); crowd (ignore) regions dashed. A legend of the class colours follows.
/// </summary>
public sealed class DetectionExamplesSection : IReportSection
{
    /// <summary>Creates the section.</summary>
    /// <param name="examples">The rows (<see cref="DetectionExamples.Collect"/>).</param>
    /// <param name="classNames">The class names, in label order.</param>
    /// <param name="scale">The integer upscaling factor; null picks <see cref="PredictionExamplesSection.AutoScale"/> and <see cref="PredictionExamplesSection.AutoShrink"/> of the largest image.</param>
    /// <param name="title">The section's heading (several sections, one per method, tell theirs apart by it).</param>
    /// <exception cref="ArgumentOutOfRangeException">The scale is below 1.</exception>
    public DetectionExamplesSection(IReadOnlyList<DetectionExample> examples, IReadOnlyList<string> classNames, int? scale = null, string title = "Example detections")
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(title);
        if (scale is { } s)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(s, 1, nameof(scale));
        }

        Examples = examples;
        ClassNames = classNames;
        Title = title;
        var side = examples.Select(e => Math.Max(e.Input.Height, e.Input.Width)).DefaultIfEmpty(1).Max();
        Scale = scale ?? PredictionExamplesSection.AutoScale(side);
        Shrink = scale is null ? PredictionExamplesSection.AutoShrink(side) : 1;
    }

    /// <summary>The heading.</summary>
    public string Title { get; }

    /// <summary>The rows.</summary>
    public IReadOnlyList<DetectionExample> Examples { get; }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The upscaling factor every picture is drawn with.</summary>
    public int Scale { get; }

    /// <summary>The downscaling factor every picture is drawn with (1: none).</summary>
    public int Shrink { get; }

    /// <summary>The colour of class <paramref name="label"/>'s boxes (the palette's colour of label + 1: the first, black, is skipped).</summary>
    public static string Css(int label) => SegmentationPalette.Css(Math.Clamp(label + 1, 1, 254));

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        var teacher = Examples.Any(e => e.Teacher is not null);
        var n = Examples.Count;
        xhtml.Append("<h2>").Append(WebUtility.HtmlEncode(Title)).Append("</h2>\n<p>")
            .Append(string.Create(CultureInfo.InvariantCulture, $"{n} test image{(n == 1 ? string.Empty : "s")}"))
            .Append(Shrink > 1 ? string.Create(CultureInfo.InvariantCulture, $", drawn at 1/{Shrink} size") : string.Create(CultureInfo.InvariantCulture, $", drawn {Scale}x"))
            .Append(string.Create(CultureInfo.InvariantCulture, $"; detections scoring at least {DetectionExamples.ScoreThreshold:0.0#} with their scores, crowd (ignored) regions dashed.</p>\n"));
        xhtml.Append("<table class=\"examples\"><tr><th>image</th><th>ground truth</th>")
            .Append(teacher ? "<th>teacher</th>" : string.Empty).Append("<th>student</th></tr>\n");
        for (var i = 0; i < n; i++)
        {
            var example = Examples[i];
            var id = i.ToString(CultureInfo.InvariantCulture);
            var picture = ReportImages.Input(example.Input, Scale, Shrink);
            xhtml.Append("<tr><td>").Append(id).Append("</td>");
            Cell(xhtml, picture, example, example.Truth, $"ground truth {id}");
            if (teacher)
            {
                if (example.Teacher is { } t)
                {
                    Cell(xhtml, picture, example, t, $"teacher detections {id}");
                }
                else
                {
                    xhtml.Append("<td>—</td>");
                }
            }

            Cell(xhtml, picture, example, example.Student, $"student detections {id}");
            xhtml.Append("</tr>\n");
        }

        xhtml.Append("</table>\n<div class=\"legend\">");
        for (var c = 0; c < ClassNames.Count; c++)
        {
            xhtml.Append("<span style=\"display:inline-block;margin:2px 12px 2px 0\"><span style=\"display:inline-block;width:14px;height:14px;vertical-align:middle;border:2px solid ")
                .Append(Css(c)).Append("\"></span> ").Append(WebUtility.HtmlEncode($"{c.ToString(CultureInfo.InvariantCulture)} {ClassNames[c]}")).Append("</span>");
        }

        xhtml.Append("</div>\n");
    }

    /// <summary>The input as an SVG image with <paramref name="boxes"/> drawn over it, in a table cell.</summary>
    private void Cell(StringBuilder xhtml, string picture, DetectionExample example, IReadOnlyList<DrawnBox> boxes, string alt)
    {
        var (w, h) = (ReportImages.Drawn(example.Input.Width, Scale, Shrink), ReportImages.Drawn(example.Input.Height, Scale, Shrink));
        var factor = (double)Scale / Shrink;
        xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<td><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\""))
            .Append(WebUtility.HtmlEncode(alt)).Append("\"><image href=\"").Append(picture)
            .Append(string.Create(CultureInfo.InvariantCulture, $"\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" style=\"image-rendering:pixelated\"/>"));
        foreach (var box in boxes)
        {
            var color = Css(box.Label);
            var (x, y) = (box.X1 * factor, box.Y1 * factor);
            var (bw, bh) = (Math.Max(0, box.X2 - box.X1) * factor, Math.Max(0, box.Y2 - box.Y1) * factor);
            xhtml.Append(string.Create(CultureInfo.InvariantCulture,
                $"<rect x=\"{x:F1}\" y=\"{y:F1}\" width=\"{bw:F1}\" height=\"{bh:F1}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{(box.Crowd ? " stroke-dasharray=\"4 3\"" : string.Empty)}/>"));
            var name = box.Label >= 0 && box.Label < ClassNames.Count ? ClassNames[box.Label] : box.Label.ToString(CultureInfo.InvariantCulture);
            var text = double.IsNaN(box.Score) ? name : string.Create(CultureInfo.InvariantCulture, $"{name} {box.Score:0.00}");
            xhtml.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{x + 2:F1}\" y=\"{Math.Max(10, y - 2):F1}\" font-size=\"10\" fill=\"{color}\" stroke=\"#fff\" stroke-width=\"0.3\">"))
                .Append(WebUtility.HtmlEncode(text)).Append("</text>");
        }

        xhtml.Append("</svg></td>");
    }
}
