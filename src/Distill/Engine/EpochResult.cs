using System.Text.Json.Serialization;

namespace Distill.Engine;

/// <summary>What one epoch measured.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="LearningRate">The rate at the epoch's first step (a per-iteration schedule moves it within the epoch).</param>
/// <param name="LossTerms">Each loss term's mean over the epoch's steps (weighted, as back-propagated).</param>
/// <param name="TrainAccuracy">
/// The task's primary metric (<see cref="PrimaryMetric"/>; classification: top-1) on the training batches, in training mode.
/// The name is the run log's (log.jsonl), kept so that every log reads back.
/// </param>
/// <param name="TestAccuracy">The task's primary metric on the test set, in eval mode (the log's name, as <paramref name="TrainAccuracy"/>).</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
/// <param name="Seconds">Wall time of the training part.</param>
public sealed record EpochResult(int Epoch, double LearningRate, IReadOnlyDictionary<string, double> LossTerms, double TrainAccuracy,
    double TestAccuracy, double ImagesPerSecond, double Seconds)
{
    private readonly IReadOnlyDictionary<string, double>? _metrics;

    /// <summary>
    /// The terms of <see cref="LossTerms"/> that a method's own optimizer minimised (<see cref="Methods.IHasOwnOptimizer"/>,
    /// e.g. a discriminator's): logged beside the others, never part of the student's total.
    /// </summary>
    public IReadOnlyList<string> OwnLossTerms { get; init; } = [];

    /// <summary>
    /// The key of the task's metric that <see cref="TrainAccuracy"/> and <see cref="TestAccuracy"/> hold and that picks the
    /// best epoch; "top1" (classification) for a result read from a log, which records only those two values.
    /// </summary>
    [JsonIgnore]
    public string PrimaryMetric { get; init; } = Tasks.ClassificationTask.Top1;

    /// <summary>
    /// Every test-set metric of the task by key (classification: "top1", and "top5" with at least five classes). A result
    /// read from a log has only its primary metric, <see cref="TestAccuracy"/>.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, double> Metrics
    {
        get => _metrics ?? new Dictionary<string, double>(StringComparer.Ordinal) { [PrimaryMetric] = TestAccuracy };
        init => _metrics = value;
    }

    /// <summary>The student's total loss: the sum of the terms it back-propagated (<see cref="OwnLossTerms"/> left out).</summary>
    [JsonIgnore]
    public double StudentLoss => LossTerms.Where(t => !OwnLossTerms.Contains(t.Key)).Sum(t => t.Value);
}
