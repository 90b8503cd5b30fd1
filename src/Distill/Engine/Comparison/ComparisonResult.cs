namespace Distill.Engine.Comparison;

/// <summary>What a comparison produced: its rows and every run's epochs.</summary>
/// <param name="Rows">One row per method (or stage), in order.</param>
/// <param name="Series">One curve per run, labelled "model label seed N".</param>
public sealed record ComparisonResult(IReadOnlyList<ComparisonRow> Rows, IReadOnlyList<ReportWriter.Series> Series)
{
    /// <summary>How the runs' task labels the primary metric the rows hold (<see cref="Tasks.ITrainingTask.PrimaryMetricLabel"/>; "top-1" for classification).</summary>
    public string Metric { get; init; } = "top-1";

    /// <summary>The first run's resolved recipe as YAML (the report's run section); empty when not known.</summary>
    public string Recipe { get; init; } = string.Empty;

    /// <summary>The seeds of the runs, in order (the report's run section).</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [];
}
