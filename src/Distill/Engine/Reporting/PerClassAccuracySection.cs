using System.Text;

namespace Distill.Engine.Reporting;

/// <summary>
/// Per-class accuracy (classification): the per-class IoU figure (<see cref="PerClassIoUSection"/>) for the share of each
/// class's test samples predicted as that class (its recall), a table of classes x runs (mean ± std over seeds, the mean
/// alone for one seed) with a last row of the mean over the classes (balanced accuracy), and its bar chart.
/// </summary>
public sealed class PerClassAccuracySection : IReportSection
{
    private static readonly PerClassIoUSection.Kind Accuracy =
        new("<h2 id=\"per-class-accuracy\">Per-class accuracy</h2>", "accuracy", "a class without test samples", "mean (balanced accuracy)", "per-class-accuracy");

    private readonly PerClassIoUSection _figure;

    /// <summary>Creates the section.</summary>
    /// <param name="classNames">The class names, in label order.</param>
    /// <param name="runs">The runs; each seed holds one accuracy per class in [0, 1] (<see cref="Tasks.TaskEvaluation.Breakdown"/> of the classification task), NaN for a class without samples.</param>
    /// <exception cref="ArgumentException">A run has no seed, or a seed's values are not one per class.</exception>
    public PerClassAccuracySection(IReadOnlyList<string> classNames, IReadOnlyList<PerClassIoURun> runs) =>
        _figure = new PerClassIoUSection(classNames, runs, Accuracy);

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames => _figure.ClassNames;

    /// <summary>The runs (table columns).</summary>
    public IReadOnlyList<PerClassIoURun> Runs => _figure.Runs;

    /// <inheritdoc />
    public void AppendTo(StringBuilder xhtml) => _figure.AppendTo(xhtml);
}
