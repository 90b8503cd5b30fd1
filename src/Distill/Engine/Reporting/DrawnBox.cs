namespace Distill.Engine.Reporting;

/// <summary>A box drawn on an example image: a ground-truth box or a detection.</summary>
/// <param name="X1">Left edge in the input's pixels (continuous coordinates).</param>
/// <param name="Y1">Top edge.</param>
/// <param name="X2">Right edge.</param>
/// <param name="Y2">Bottom edge.</param>
/// <param name="Label">The class index (contiguous, 0..K-1).</param>
/// <param name="Score">The detection's score; NaN for a ground-truth box.</param>
/// <param name="Crowd">Whether a ground-truth box is an ignore (crowd) region.</param>
public sealed record DrawnBox(double X1, double Y1, double X2, double Y2, int Label, double Score = double.NaN, bool Crowd = false);
