namespace Distill.Engine.Reporting;

/// <summary>One run (a model and its training, over one or more seeds) of the per-class IoU table.</summary>
/// <param name="Label">The column's heading, e.g. "resnet18 cwd".</param>
/// <param name="Seeds">Each seed's IoU per class in [0, 1] (<see cref="Tasks.TaskEvaluation.Breakdown"/> of the segmentation task), NaN for a class absent from truth and prediction.</param>
public sealed record PerClassIoURun(string Label, IReadOnlyList<IReadOnlyList<double>> Seeds);
