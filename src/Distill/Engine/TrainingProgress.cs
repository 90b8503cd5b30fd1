namespace Distill.Engine;

/// <summary>A progress report during training.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Loss">The mean total loss so far this epoch (refreshed every few steps).</param>
/// <param name="ImagesPerSecond">Throughput so far this epoch.</param>
/// <param name="LossTerms">Each weighted term's mean so far this epoch.</param>
/// <param name="TrainAccuracy">Top-1 on this epoch's training batches so far.</param>
/// <param name="LearningRate">The epoch's learning rate.</param>
public sealed record TrainingProgress(int Epoch, int Step, int Steps, double Loss, double ImagesPerSecond,
    IReadOnlyDictionary<string, double> LossTerms, double TrainAccuracy, double LearningRate);
