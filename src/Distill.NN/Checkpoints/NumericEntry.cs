namespace Distill.NN.Checkpoints;

/// <summary>A caller entry of a training checkpoint that must hold a finite number from <paramref name="Min"/> to <paramref name="Max"/> (checked before anything is restored).</summary>
/// <param name="Key">The entry's key as given to <see cref="TrainingCheckpoint.Save"/>'s extra entries (without the "extra." prefix).</param>
/// <param name="Min">The smallest allowed value.</param>
/// <param name="Max">The largest allowed value.</param>
public sealed record NumericEntry(string Key, double Min, double Max);
