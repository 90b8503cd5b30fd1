namespace Distill.Engine.Comparison;

/// <summary>One row of a comparison's table: a model and training over one or more seeds.</summary>
/// <param name="Model">The trained model.</param>
/// <param name="Label">The training: a method's label, "alone", "teacher", ...</param>
/// <param name="FinalAccuracies">The last epoch's test top-1 of each seed.</param>
/// <param name="Seconds">Wall time of the row's runs together (0 when nothing was trained).</param>
/// <param name="ImagesPerSecond">Mean training throughput over every epoch of the runs, loader included (NaN when nothing was trained).</param>
public sealed record ComparisonRow(string Model, string Label, IReadOnlyList<double> FinalAccuracies, double Seconds, double ImagesPerSecond);
