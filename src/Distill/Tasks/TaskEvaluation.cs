namespace Distill.Tasks;

/// <summary>The metrics a task measured over an evaluation set.</summary>
/// <param name="Samples">How many samples were evaluated.</param>
/// <param name="Metrics">Every metric by key (fractions in [0, 1] for accuracies), in the order the task reports them.</param>
/// <param name="PrimaryMetric">The key of the metric that picks the best epoch.</param>
public sealed record TaskEvaluation(long Samples, IReadOnlyDictionary<string, double> Metrics, string PrimaryMetric)
{
    /// <summary>The primary metric's value.</summary>
    public double Primary => Metrics[PrimaryMetric];

    /// <summary>Per-class (or per-category) values of the primary metric when a breakdown was asked for, else empty; NaN for a class with no sample.</summary>
    public IReadOnlyList<double> Breakdown { get; init; } = [];

    /// <summary>The counts of (true, predicted) classes when a breakdown was asked for and the task counts them (classification), else null.</summary>
    public NN.Metrics.ConfusionMatrix? Confusion { get; init; }
}
