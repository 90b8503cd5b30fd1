namespace Distill.NN.Metrics.Detection;

/// <summary>
/// One ground-truth object for <see cref="VocEvaluator"/>: corners in the devkit's pixel convention, where a box
/// covers x1..x2 inclusive (width x2 - x1 + 1).
/// </summary>
/// <param name="X1">Left.</param>
/// <param name="Y1">Top.</param>
/// <param name="X2">Right (inclusive).</param>
/// <param name="Y2">Bottom (inclusive).</param>
/// <param name="ClassId">The class (one of the evaluator's class ids).</param>
/// <param name="Difficult">Marked difficult: not counted, and a detection matched to it is neither right nor wrong.</param>
public sealed record VocGroundTruth(double X1, double Y1, double X2, double Y2, int ClassId, bool Difficult = false);
