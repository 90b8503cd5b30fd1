using System.Xml.Linq;
using Distill.Engine;
using Distill.Engine.Reporting;
using Xunit;

namespace Distill.Tests.Reporting;

/// <summary>
/// report.html's figures: per-step curves of every loss term, the total and the rate from the step logs; the test and
/// train metric per epoch with mean ± std bands over a method's seeds; the methods' bar chart with error bars; per-class
/// accuracy; the confusion matrix heat map; the run's recipe and environment; and no "±" where there is one seed.
/// </summary>
public sealed class ReportFiguresTests
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XDocument Parse(string html) => XDocument.Parse(html.Replace("<!DOCTYPE html>", string.Empty, StringComparison.Ordinal));

    private static XElement[] Charts(XDocument document, string cssClass) =>
        [.. document.Descendants(Svg + "svg").Where(s => (string?)s.Attribute("class") == cssClass)];

    [Fact]
    public void ThreeSeedComparison_HasStepCurvesPerTermTotalAndRate_BandsOverSeeds_AndErrorBars()
    {
        var document = Parse(ReportFixtures.Render(seeds: 3));
        foreach (var id in ReportFixtures.SectionIds)
        {
            Assert.Single(document.Descendants(), e => (string?)e.Attribute("id") == id);
        }

        var steps = Charts(document, "step-curve");
        Assert.Equal(["Loss term ce per step", "Loss term kd per step", "Total loss per step", "Learning rate per step"],
            steps.Select(s => s.Element(Svg + "text")!.Value));
        // Two methods: one mean curve and one band each per chart, the step axis running over both epochs (steps 10 to 60).
        Assert.All(steps, s => Assert.Equal(2, s.Elements(Svg + "polyline").Count()));
        Assert.All(steps, s => Assert.Equal(2, s.Elements(Svg + "polygon").Count()));
        Assert.Contains(steps[0].Elements(Svg + "text"), t => t.Value == "step 60");
        Assert.Contains(steps[0].Elements(Svg + "text"), t => t.Value == "resnet8 kd (3 seeds)");

        var metric = Assert.Single(Charts(document, "epoch-metric"));
        // Test (solid) and train (dashed) per method, each with its band.
        Assert.Equal(4, metric.Elements(Svg + "polyline").Count());
        Assert.Equal(2, metric.Elements(Svg + "polyline").Count(p => p.Attribute("stroke-dasharray") is not null));
        Assert.Equal(4, metric.Elements(Svg + "polygon").Count());
        Assert.Contains(metric.Elements(Svg + "text"), t => t.Value == "resnet8 alone (mean ± std of 3 seeds)");

        var bars = Assert.Single(Charts(document, "method-bars"));
        Assert.Equal(2, bars.Elements(Svg + "rect").Count());
        Assert.Equal(2, bars.Elements(Svg + "g").Count(g => (string?)g.Attribute("class") == "error-bar"));
        Assert.Contains(bars.Elements(Svg + "text"), t => t.Value == "66.00 ± 1.00 %");
    }

    [Fact]
    public void BandAroundTheMean_IsMeanPlusMinusTheSampleStd_AtEachSharedX()
    {
        var (mean, band) = SvgLineChart.Aggregate([[(1, 1.0), (2, 4.0)], [(1, 3.0), (2, 4.0), (3, 9.0)]]);
        Assert.Equal([(1.0, 2.0), (2.0, 4.0)], mean);
        var spread = Math.Sqrt(2);
        Assert.Equal([(2 - spread, 2 + spread), (4.0, 4.0)], band!);
        Assert.Null(SvgLineChart.Aggregate([[(1, 1.0)]]).Band);
    }

    [Fact]
    public void OneSeed_ShowsNoPlusMinus_NorBandsNorErrorBars_Anywhere()
    {
        var html = ReportFixtures.Render(seeds: 1);
        Assert.DoesNotContain("±", html, StringComparison.Ordinal);
        var document = Parse(html);
        Assert.Empty(document.Descendants(Svg + "polygon"));
        Assert.DoesNotContain(document.Descendants(Svg + "g"), g => (string?)g.Attribute("class") == "error-bar");
        var row = document.Descendants(Xhtml + "table").First().Elements(Xhtml + "tr").Skip(1).First();
        Assert.Equal(["resnet8", "alone", "60.00 %", "1"], row.Elements().Select(e => e.Value));
    }

    [Fact]
    public void PerClassAccuracy_IsEachClassRecall_WithTheBalancedMean()
    {
        var document = Parse(ReportFixtures.Render(seeds: 1));
        var table = document.Descendants(Xhtml + "table").Single(t => (string?)t.Attribute("class") == "per-class-accuracy");
        var rows = table.Elements(Xhtml + "tr").Select(r => r.Elements().Select(e => e.Value).ToArray()).ToArray();
        // Truth 0,0,1,1,2,2 predicted 0,1,1,1,2,0: recalls 1/2, 2/2, 1/2.
        Assert.Equal(["t-shirt", "50.00"], rows[1]);
        Assert.Equal(["trouser", "100.00"], rows[2]);
        Assert.Equal(["mean (balanced accuracy)", "66.67"], rows[^1]);
        Assert.Single(Charts(document, "per-class-accuracy-chart"));
    }

    [Fact]
    public void ConfusionMatrix_IsAHeatMapOfRowShares_AddedOverSeeds()
    {
        var a = ReportFixtures.Confusion([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]);
        var b = ReportFixtures.Confusion([0, 0], [0, 0]);
        var section = new ConfusionMatrixSection(ReportFixtures.Classes, [a, b]);
        Assert.Equal(3, section.Count(0, 0));
        Assert.Equal(0.75, section.Share(0, 0));
        Assert.Equal(0.5, section.Share(2, 0));
        var xhtml = new System.Text.StringBuilder();
        section.AppendTo(xhtml);
        var svg = XElement.Parse(xhtml.ToString()[xhtml.ToString().IndexOf("<svg", StringComparison.Ordinal)..].TrimEnd());
        var cells = svg.Elements(Svg + "rect").Where(r => (string?)r.Attribute("class") == "cell").ToArray();
        Assert.Equal(9, cells.Length);
        // The diagonal cell of trouser (all correct) is the darkest colour; a share of 0 is white.
        Assert.Equal("#08306b", (string?)cells[4].Attribute("fill"));
        Assert.Equal("#ffffff", (string?)cells[2].Attribute("fill"));
        Assert.Contains(svg.Elements(Svg + "text"), t => t.Value == "75");
    }

    [Fact]
    public void ConfusionMatrix_OfOtherClasses_IsRefused_NamingBothCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => new ConfusionMatrixSection(["a", "b"], [ReportFixtures.Confusion([0], [0])]));
        Assert.StartsWith("a confusion matrix of 3 classes does not fit the 2 class names", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RunInfo_ShowsTheRecipeAndTheEnvironment_WithVersionsThreadsAllocatorBlasAndSeed()
    {
        var environment = RunInfoSection.Environment([0, 1, 2]);
        var keys = environment.Select(e => e.Key).ToArray();
        Assert.Equal(["Distill", "libtorch", "threads", "allocator", "BLAS", "seeds", ".NET", "system", "processor"], keys);
        Assert.Equal("0, 1, 2", environment.Single(e => e.Key == "seeds").Value);
        Assert.Equal(Torch.TorchRuntime.AllocatorPolicy, environment.Single(e => e.Key == "allocator").Value);
        var document = Parse(ReportFixtures.Render(seeds: 1));
        Assert.Equal("train:\n  seed: 0\n", document.Descendants(Xhtml + "pre").Single().Value);
    }
}
