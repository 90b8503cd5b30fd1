namespace Distill.Engine;

/// <summary>What one epoch measured.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="LearningRate">The rate used during the epoch.</param>
/// <param name="LossTerms">Each loss term's mean over the epoch's steps (weighted, as back-propagated).</param>
/// <param name="TrainAccuracy">Top-1 on the training batches, in training mode.</param>
/// <param name="TestAccuracy">Top-1 on the test set, in eval mode.</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
/// <param name="Seconds">Wall time of the training part.</param>
public sealed record EpochResult(int Epoch, double LearningRate, IReadOnlyDictionary<string, double> LossTerms, double TrainAccuracy,
    double TestAccuracy, double ImagesPerSecond, double Seconds);
