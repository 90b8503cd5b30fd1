namespace Distill.Engine.Comparison;

/// <summary>One row of a comparison's table: a model and training over one or more seeds.</summary>
/// <param name="Model">The trained model.</param>
/// <param name="Label">The training: a method's label, "alone", "teacher", ...</param>
/// <param name="FinalAccuracies">The last epoch's test top-1 of each seed.</param>
/// <param name="Seconds">Wall time of the row's runs together (0 when nothing was trained).</param>
/// <param name="ImagesPerSecond">Mean training throughput over every epoch of the runs, loader included (NaN when nothing was trained).</param>
public sealed record ComparisonRow(string Model, string Label, IReadOnlyList<double> FinalAccuracies, double Seconds, double ImagesPerSecond)
{
    /// <summary>Each seed's per-class values of the final model (segmentation: IoU per class, NaN when absent); empty when the task reports none.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Breakdowns { get; init; } = [];

    /// <summary>The first seed's example predictions (segmentation); empty otherwise.</summary>
    public IReadOnlyList<Reporting.PredictionExample> Examples { get; init; } = [];

    /// <summary>Each seed's confusion matrix of the final model (classification); empty otherwise.</summary>
    public IReadOnlyList<NN.Metrics.ConfusionMatrix> Confusions { get; init; } = [];

    /// <summary>Every test metric of each seed's last epoch by key (detection: map, ap50, ap75, ...); empty when not recorded.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> FinalMetrics { get; init; } = [];

    /// <summary>The first seed's example detections (detection); empty otherwise.</summary>
    public IReadOnlyList<Reporting.DetectionExample> DetectionExamples { get; init; } = [];

    /// <summary>The data set's class names, in label order (with <see cref="Breakdowns"/>).</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];
}
