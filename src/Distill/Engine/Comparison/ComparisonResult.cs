namespace Distill.Engine.Comparison;

/// <summary>What a comparison produced: its rows and every run's epochs.</summary>
/// <param name="Rows">One row per method (or stage), in order.</param>
/// <param name="Series">One curve per run, labelled "model label seed N".</param>
public sealed record ComparisonResult(IReadOnlyList<ComparisonRow> Rows, IReadOnlyList<ReportWriter.Series> Series);
