using System.Text;

namespace Distill.Engine.Reporting;

/// <summary>
/// Per-step curves from the runs' step logs (steps.jsonl): one chart per loss term (each term's running mean over its
/// epoch, weighted as back-propagated), one of the total and one of the learning rate, against the global step
/// ((epoch - 1) x steps per epoch + step). The series of one group (a method's seeds) are drawn as their mean with a band of
/// ± the sample std at the steps they share.
/// </summary>
public sealed class StepCurvesSection : IReportSection
{
    /// <summary>Creates the section.</summary>
    /// <param name="series">The runs; those without steps are left out.</param>
    public StepCurvesSection(IReadOnlyList<ReportWriter.Series> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        Series = [.. series.Where(s => s.Steps.Count > 0)];
    }

    /// <summary>The runs that have steps.</summary>
    public IReadOnlyList<ReportWriter.Series> Series { get; }

    /// <summary>The loss terms logged by any run, in the order they first appear.</summary>
    public IReadOnlyList<string> Terms => [.. Series.SelectMany(s => s.Steps.SelectMany(p => p.LossTerms.Keys)).Distinct()];

    /// <summary>A step's place on the x axis: (epoch - 1) x steps per epoch + step.</summary>
    public static double GlobalStep(TrainingProgress step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return ((double)(step.Epoch - 1) * step.Steps) + step.Step;
    }

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        xhtml.Append("<h2 id=\"step-curves\">Per-step curves</h2>\n<p>From each run's step log: running means over the epoch so far")
            .Append(Series.GroupBy(s => s.Group).Any(g => g.Count() > 1) ? "; a method's seeds as their mean with a band of ± std" : string.Empty)
            .Append(".</p>\n<div class=\"charts\">\n");
        foreach (var term in Terms)
        {
            Chart(xhtml, $"Loss term {term} per step", p => p.LossTerms.TryGetValue(term, out var v) ? v : double.NaN);
        }

        Chart(xhtml, "Total loss per step", p => p.Loss);
        Chart(xhtml, "Learning rate per step", p => p.LearningRate);
        xhtml.Append("</div>\n");
    }

    private void Chart(StringBuilder xhtml, string title, Func<TrainingProgress, double> value)
    {
        var groups = Series.GroupBy(s => s.Group).ToArray();
        var lines = new List<SvgLineChart.Line>();
        for (var g = 0; g < groups.Length; g++)
        {
            var runs = groups[g].ToArray();
            var (mean, band) = SvgLineChart.Aggregate([.. runs.Select(r => (IReadOnlyList<(double, double)>)[.. r.Steps.Select(p => (GlobalStep(p), value(p))).OrderBy(p => p.Item1)])]);
            var label = runs.Length > 1 ? $"{groups[g].Key} ({runs.Length} seeds)" : runs[0].Label;
            lines.Add(new SvgLineChart.Line(label, ReportWriter.Colors[g % ReportWriter.Colors.Length], mean, Band: band, Markers: false));
        }

        SvgLineChart.Append(xhtml, title, "step", lines, "step-curve");
    }
}
