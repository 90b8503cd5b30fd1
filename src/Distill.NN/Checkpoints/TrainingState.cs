namespace Distill.NN.Checkpoints;

/// <summary>What a training checkpoint restored besides the tensors.</summary>
/// <param name="Epoch">The last completed epoch.</param>
/// <param name="Config">The run's configuration text, if saved.</param>
/// <param name="Extra">Caller-defined entries saved with the checkpoint.</param>
public sealed record TrainingState(int Epoch, string? Config, IReadOnlyDictionary<string, string> Extra);
