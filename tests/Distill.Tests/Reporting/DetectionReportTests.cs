using System.Text;
using System.Xml.Linq;
using Distill.Engine.Reporting;
using Distill.NN.Data;
using Xunit;

namespace Distill.Tests.Reporting;

/// <summary>report.html's detection sections: per-category AP (the per-class section with AP labels) and example detections drawn as SVG boxes over the input.</summary>
public sealed class DetectionReportTests
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly string[] Classes = ["t-shirt", "trouser", "pullover"];

    [Fact]
    public void PerCategoryAp_LabelsTheTableAndChartWithAp_AndTheMeanRowMap_AndSaysWhatADashMeans()
    {
        var section = PerClassIoUSection.PerCategoryAp(Classes, [new PerClassIoURun("alone", [[0.5, double.NaN, 0.25], [0.7, double.NaN, 0.35]])]);
        var document = Parse(Render(section));
        Assert.Equal("Per-class AP", document.Descendants(Xhtml + "h2").Single().Value);
        Assert.Contains("without ground truth", document.Descendants(Xhtml + "p").Single().Value, StringComparison.Ordinal);
        var rows = document.Descendants(Xhtml + "tr").Select(r => r.Elements().Select(e => e.Value).ToArray()).ToArray();
        Assert.Contains(rows, r => r is ["t-shirt", "60.00 ± 14.14"]);
        Assert.Contains(rows, r => r is ["trouser", "—"]);
        // The mean over the categories with ground truth, per seed (0.375 and 0.525), then over seeds.
        Assert.Contains(rows, r => r is ["mAP", "45.00 ± 10.61"]);
        Assert.Contains(document.Descendants(Svg + "text"), t => t.Value == "Test AP per class (%)");
        Assert.DoesNotContain("IoU", document.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExampleDetections_DrawEachBoxScaledOverTheInput_InItsClassColour_WithNameAndScore_CrowdDashed()
    {
        var input = new Image(1, 10, 20, [.. Enumerable.Range(0, 200).Select(i => i / 200f)]);
        var truth = new DrawnBox[] { new(2, 1, 8, 5, 0), new(10, 2, 12, 4, 2, Crowd: true) };
        var student = new DrawnBox[] { new(2.5, 1, 8, 5.5, 1, 0.87) };
        var section = new DetectionExamplesSection([new DetectionExample(input, truth, student, student), new DetectionExample(input, truth, null, [])], Classes, scale: 3);
        var document = Parse(Render(section));

        Assert.Equal(["image", "ground truth", "teacher", "student"], document.Descendants(Xhtml + "th").Select(th => th.Value));
        var pictures = document.Descendants(Svg + "svg").ToArray();
        Assert.Equal(5, pictures.Length);
        Assert.All(pictures, p => Assert.Equal(("60", "30"), ((string)p.Attribute("width")!, (string)p.Attribute("height")!)));
        Assert.All(pictures, p => Assert.StartsWith("data:image/png;base64,", (string)p.Element(Svg + "image")!.Attribute("href")!, StringComparison.Ordinal));

        var groundTruth = pictures[0].Elements(Svg + "rect").ToArray();
        Assert.Equal(2, groundTruth.Length);
        Assert.Equal(("6.0", "3.0", "18.0", "12.0"), ((string)groundTruth[0].Attribute("x")!, (string)groundTruth[0].Attribute("y")!,
            (string)groundTruth[0].Attribute("width")!, (string)groundTruth[0].Attribute("height")!));
        Assert.Equal(DetectionExamplesSection.Css(0), (string)groundTruth[0].Attribute("stroke")!);
        Assert.Null(groundTruth[0].Attribute("stroke-dasharray"));
        Assert.NotNull(groundTruth[1].Attribute("stroke-dasharray"));
        Assert.Equal(["t-shirt", "pullover"], pictures[0].Elements(Svg + "text").Select(t => t.Value));

        var detection = pictures[2].Elements(Svg + "rect").Single();
        Assert.Equal(DetectionExamplesSection.Css(1), (string)detection.Attribute("stroke")!);
        Assert.Equal("trouser 0.87", pictures[2].Elements(Svg + "text").Single().Value);
        // The second example has no teacher: a dash in its cell, and a student picture without boxes.
        Assert.Contains(document.Descendants(Xhtml + "td"), td => td.Value == "—");
        Assert.Empty(pictures[4].Elements(Svg + "rect"));
        // No class colour is the palette's black background colour.
        Assert.All(Enumerable.Range(0, Classes.Length), c => Assert.NotEqual("#000000", DetectionExamplesSection.Css(c)));
    }

    private static string Render(IReportSection section)
    {
        var sb = new StringBuilder();
        section.AppendTo(sb);
        return $"<div xmlns=\"http://www.w3.org/1999/xhtml\">{sb}</div>";
    }

    private static XDocument Parse(string html) => XDocument.Parse(html);
}
