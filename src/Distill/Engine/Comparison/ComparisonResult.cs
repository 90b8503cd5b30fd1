namespace Distill.Engine.Comparison;

/// <summary>What a comparison produced: its rows and every run's epochs.</summary>
/// <param name="Rows">One row per method (or stage), in order.</param>
/// <param name="Series">One curve per run, labelled "model label seed N".</param>
public sealed record ComparisonResult(IReadOnlyList<ComparisonRow> Rows, IReadOnlyList<ReportWriter.Series> Series)
{
    /// <summary>How the runs' task labels the primary metric the rows hold (<see cref="Tasks.ITrainingTask.PrimaryMetricLabel"/>; "top-1" for classification).</summary>
    public string Metric { get; init; } = "top-1";
}
