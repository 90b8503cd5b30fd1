using Distill.Configs;

namespace Distill.Engine.Comparison;

/// <summary>
/// Shows one run while it trains: calls <paramref name="train"/> with a progress reporter and an epoch callback of
/// its own (a console's progress bar) and returns what it returned.
/// </summary>
/// <param name="label">The row's label (e.g. "kd", "teacher").</param>
/// <param name="run">The run's recipe (model, epochs, seed).</param>
/// <param name="train">Trains the run.</param>
public delegate TrainingRun.Summary ComparisonDisplay(string label, RunConfig run, Func<IProgress<TrainingProgress>?, Action<EpochResult>?, TrainingRun.Summary> train);
