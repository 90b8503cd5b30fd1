using System.Xml.Linq;
using Distill.Engine;
using Xunit;

namespace Distill.Tests;

public sealed class ReportWriterTests
{
    [Fact]
    public void Report_IsWellFormed_WithCurvesPerSeriesAndTheMeanStdTable()
    {
        var terms = new Dictionary<string, double> { ["ce"] = 0.5, ["kd"] = 1.0 };
        EpochResult Epoch(int e, double acc) => new(e, 0.05, terms, acc, acc, 100, 1);
        var html = ReportWriter.Render("A <test> run", [
            new ReportWriter.Series("alone", [Epoch(1, 0.5), Epoch(2, 0.6)]),
            new ReportWriter.Series("kd & co", [Epoch(1, 0.55), Epoch(2, 0.7)]),
        ], [new ReportWriter.ResultRow("resnet8", "kd", [0.70, 0.72])]);
        var document = XDocument.Parse(html.Replace("<!DOCTYPE html>", string.Empty, StringComparison.Ordinal));
        XNamespace svg = "http://www.w3.org/2000/svg";
        // Per series: test and train metric in the metric chart, and the loss.
        Assert.Equal(6, document.Descendants(svg + "polyline").Count());
        Assert.Contains("A &lt;test&gt; run", html, StringComparison.Ordinal);
        Assert.Contains("71.00 ± 1.41 %", html, StringComparison.Ordinal);
        Assert.Contains("kd &amp; co", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void MeanStd_UsesTheSampleStandardDeviation()
    {
        Assert.Equal((2.0, 1.0), ReportWriter.MeanStd([1.0, 2.0, 3.0]));
        Assert.Equal((5.0, 0.0), ReportWriter.MeanStd([5.0]));
    }
}
