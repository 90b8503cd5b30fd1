using System.Globalization;
using System.Net;
using System.Text;
using Distill.NN.Data;

namespace Distill.Engine.Reporting;

/// <summary>
/// The example-predictions figure: one row per test image (input, ground truth, teacher prediction when there is one,
/// student prediction), masks in <see cref="SegmentationPalette"/> colours, every picture upscaled by one integer factor
/// (nearest) and embedded as a PNG data URI; then a legend of the class colours with their names. Without a given scale,
/// small images (64 x 64 scenes) are drawn about 200 pixels wide and images larger than 512 pixels are drawn at an integer
/// fraction of their size (every k-th pixel), so a report on Cityscapes-sized images stays a few megabytes.
/// </summary>
public sealed class PredictionExamplesSection : IReportSection
{
    /// <summary>Creates the section.</summary>
    /// <param name="examples">The rows (<see cref="SegmentationExamples.Collect(Models.TappedModel{Torch.Tensor}, Models.TappedModel{Torch.Tensor}?, DataLoader, IReadOnlyList{double}, IReadOnlyList{double}, int, Tasks.SegmentationTask?)"/>).</param>
    /// <param name="classNames">The class names, in label order (the legend).</param>
    /// <param name="scale">The integer upscaling factor; null picks <see cref="AutoScale"/> and <see cref="AutoShrink"/> of the largest image.</param>
    /// <exception cref="ArgumentOutOfRangeException">The scale is below 1.</exception>
    /// <param name="title">The section's heading (several sections, one per method, tell theirs apart by it).</param>
    public PredictionExamplesSection(IReadOnlyList<PredictionExample> examples, IReadOnlyList<string> classNames, int? scale = null, string title = "Example predictions")
    {
        ArgumentNullException.ThrowIfNull(title);
        Title = title;
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(classNames);
        if (scale is { } s)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(s, 1, nameof(scale));
        }

        Examples = examples;
        ClassNames = classNames;
        var side = examples.Select(e => Math.Max(e.Truth.Height, e.Truth.Width)).DefaultIfEmpty(1).Max();
        Scale = scale ?? AutoScale(side);
        Shrink = scale is null ? AutoShrink(side) : 1;
    }

    /// <summary>The heading.</summary>
    public string Title { get; }

    /// <summary>The rows.</summary>
    public IReadOnlyList<PredictionExample> Examples { get; }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The upscaling factor every picture is drawn with.</summary>
    public int Scale { get; }

    /// <summary>The downscaling factor every picture is drawn with (1: none): a picture is drawn at <see cref="Scale"/> / <see cref="Shrink"/> of its size.</summary>
    public int Shrink { get; }

    /// <summary>The factor that draws an image of <paramref name="side"/> pixels at about 200 pixels (never below 1): 3 for 64x64 scenes.</summary>
    public static int AutoScale(int side) => Math.Max(1, 200 / Math.Max(1, side));

    /// <summary>The factor that draws an image of <paramref name="side"/> pixels at no more than 512 (1 up to 512 pixels; 4 for 2048).</summary>
    public static int AutoShrink(int side) => Math.Max(1, (side + 511) / 512);

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        var teacher = Examples.Any(e => e.Teacher is not null);
        xhtml.Append("<h2>").Append(System.Security.SecurityElement.Escape(Title)).Append("</h2>\n<p>").Append(Count(Examples.Count, "test image"))
            .Append(Shrink > 1 ? string.Create(CultureInfo.InvariantCulture, $", drawn at 1/{Shrink} size (nearest)") : string.Create(CultureInfo.InvariantCulture, $", drawn {Scale}x (nearest)"))
            .Append("; masks in the class colours below, ignored pixels white.</p>\n");
        xhtml.Append("<table class=\"examples\"><tr><th>image</th><th>input</th><th>ground truth</th>")
            .Append(teacher ? "<th>teacher</th>" : string.Empty).Append("<th>student</th></tr>\n");
        for (var i = 0; i < Examples.Count; i++)
        {
            var example = Examples[i];
            var id = i.ToString(CultureInfo.InvariantCulture);
            xhtml.Append("<tr><td>").Append(id).Append("</td>");
            Cell(xhtml, ReportImages.Input(example.Input, Scale, Shrink), example.Input.Height, example.Input.Width, $"input {id}");
            Cell(xhtml, ReportImages.Mask(example.Truth, Scale, Shrink), example.Truth.Height, example.Truth.Width, $"ground truth {id}");
            if (teacher)
            {
                if (example.Teacher is { } t)
                {
                    Cell(xhtml, ReportImages.Mask(t, Scale, Shrink), t.Height, t.Width, $"teacher prediction {id}");
                }
                else
                {
                    xhtml.Append("<td>—</td>");
                }
            }

            Cell(xhtml, ReportImages.Mask(example.Student, Scale, Shrink), example.Student.Height, example.Student.Width, $"student prediction {id}");
            xhtml.Append("</tr>\n");
        }

        xhtml.Append("</table>\n");
        AppendLegend(xhtml);
    }

    private void AppendLegend(StringBuilder xhtml)
    {
        xhtml.Append("<div class=\"legend\">");
        for (var c = 0; c < ClassNames.Count; c++)
        {
            Swatch(xhtml, SegmentationPalette.Css(c), $"{c.ToString(CultureInfo.InvariantCulture)} {ClassNames[c]}");
        }

        if (Examples.Any(e => Array.IndexOf(e.Truth.Data, Mask.Ignore) >= 0))
        {
            Swatch(xhtml, SegmentationPalette.Css(Mask.Ignore), $"{Mask.Ignore.ToString(CultureInfo.InvariantCulture)} ignored");
        }

        xhtml.Append("</div>\n");
    }

    private static void Swatch(StringBuilder xhtml, string color, string label) =>
        xhtml.Append("<span style=\"display:inline-block;margin:2px 12px 2px 0\"><span style=\"display:inline-block;width:14px;height:14px;vertical-align:middle;border:1px solid #999;background:")
            .Append(color).Append("\"></span> ").Append(WebUtility.HtmlEncode(label)).Append("</span>");

    private void Cell(StringBuilder xhtml, string uri, int height, int width, string alt) =>
        xhtml.Append("<td><img src=\"").Append(uri).Append(string.Create(CultureInfo.InvariantCulture, $"\" width=\"{ReportImages.Drawn(width, Scale, Shrink)}\" height=\"{ReportImages.Drawn(height, Scale, Shrink)}\" alt=\""))
            .Append(WebUtility.HtmlEncode(alt)).Append("\"/></td>");

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString(CultureInfo.InvariantCulture)} {noun}s";
}
