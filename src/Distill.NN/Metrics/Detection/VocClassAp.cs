namespace Distill.NN.Metrics.Detection;

/// <summary>One class's AP at IoU 0.5.</summary>
/// <param name="ClassId">The class.</param>
/// <param name="Positives">Its ground-truth objects not marked difficult.</param>
/// <param name="Detections">Its detections.</param>
/// <param name="Ap">The AP; -1 when the class has no positives (left out of the mean).</param>
public sealed record VocClassAp(int ClassId, int Positives, int Detections, double Ap);
