using System.Xml.Linq;
using Distill.Configs;
using Distill.Engine;
using Distill.Testing;
using Xunit;

namespace Distill.Tests.Reporting;

/// <summary>
/// A classification run's report.html, written by the run: per-step curves read from its steps.jsonl, per-class accuracy
/// and the confusion matrix of the final model over the whole test split, and the run's recipe and environment.
/// </summary>
public sealed class RunReportTests : IDisposable
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly string _root = Directory.CreateTempSubdirectory("distill-report-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ClassificationRun_ReportShowsStepCurves_PerClassAccuracy_TheConfusionMatrix_AndItsRecipe()
    {
        TinyIdx.Write(_root, 64, 24);
        var config = Recipes.Parse(TinyIdx.Recipe(_root, $"""
            train:
              epochs: 1
              seed: 1
            output: {Path.Combine(_root, "run")}
            """));
        var summary = TrainingRun.Execute(config);

        var html = File.ReadAllText(Path.Combine(config.Output, "report.html"));
        var document = XDocument.Parse(html.Replace("<!DOCTYPE html>", string.Empty, StringComparison.Ordinal));
        string[] ids = ["results", "epoch-curves", "step-curves", "per-class-accuracy", "run-info"];
        Assert.All(ids, id => Assert.Single(document.Descendants(), e => (string?)e.Attribute("id") == id));
        Assert.Contains(document.Descendants(Svg + "text"), t => t.Value == "Loss term ce per step");
        Assert.Contains(document.Descendants(Svg + "text"), t => t.Value == "Learning rate per step");

        var classes = summary.ClassNames.Count;
        var evaluation = summary.FinalEvaluation!;
        var confusion = evaluation.Confusion!;
        Assert.Equal(24, confusion.Total);
        Assert.Equal(classes, evaluation.Breakdown.Count);
        Assert.Equal(confusion.OverallAccuracy, summary.Epochs[^1].TestAccuracy, 12);
        var matrix = document.Descendants(Svg + "svg").Single(s => (string?)s.Attribute("class") == "confusion-matrix");
        Assert.Equal(classes * classes, matrix.Elements(Svg + "rect").Count());
        var table = document.Descendants(Xhtml + "table").Single(t => (string?)t.Attribute("class") == "per-class-accuracy");
        Assert.Equal(classes + 2, table.Elements(Xhtml + "tr").Count());
        Assert.Equal(File.ReadAllText(Path.Combine(config.Output, "config.yaml")), document.Descendants(Xhtml + "pre").Single().Value);
        // One seed: the table gives the final value alone.
        Assert.DoesNotContain("±", html, StringComparison.Ordinal);
    }
}
