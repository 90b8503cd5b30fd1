using System.Text.Json.Serialization;

namespace Distill.Engine;

/// <summary>What one epoch measured.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="LearningRate">The rate at the epoch's first step (a per-iteration schedule moves it within the epoch).</param>
/// <param name="LossTerms">Each loss term's mean over the epoch's steps (weighted, as back-propagated).</param>
/// <param name="TrainAccuracy">Top-1 on the training batches, in training mode.</param>
/// <param name="TestAccuracy">Top-1 on the test set, in eval mode.</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
/// <param name="Seconds">Wall time of the training part.</param>
public sealed record EpochResult(int Epoch, double LearningRate, IReadOnlyDictionary<string, double> LossTerms, double TrainAccuracy,
    double TestAccuracy, double ImagesPerSecond, double Seconds)
{
    /// <summary>
    /// The terms of <see cref="LossTerms"/> that a method's own optimizer minimised (<see cref="Methods.IHasOwnOptimizer"/>,
    /// e.g. a discriminator's): logged beside the others, never part of the student's total.
    /// </summary>
    public IReadOnlyList<string> OwnLossTerms { get; init; } = [];

    /// <summary>The student's total loss: the sum of the terms it back-propagated (<see cref="OwnLossTerms"/> left out).</summary>
    [JsonIgnore]
    public double StudentLoss => LossTerms.Where(t => !OwnLossTerms.Contains(t.Key)).Sum(t => t.Value);
}
