namespace Distill.NN.Metrics.Detection;

/// <summary>One detection for <see cref="VocEvaluator"/>, corners in the devkit's pixel convention (see <see cref="VocGroundTruth"/>).</summary>
/// <param name="ImageId">The image it was made on.</param>
/// <param name="X1">Left.</param>
/// <param name="Y1">Top.</param>
/// <param name="X2">Right (inclusive).</param>
/// <param name="Y2">Bottom (inclusive).</param>
/// <param name="Score">The confidence; higher ranks first.</param>
/// <param name="ClassId">The class.</param>
public sealed record VocDetection(long ImageId, double X1, double Y1, double X2, double Y2, double Score, int ClassId);
