namespace Distill.NN.Metrics.Detection;

/// <summary>
/// A box in COCO's layout: the top-left corner and the size, in continuous pixel coordinates (no +1 anywhere).
/// <see cref="FromCorners"/> adapts the (x1, y1, x2, y2) corners that detection targets and models use.
/// </summary>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width (x2 - x1).</param>
/// <param name="Height">Height (y2 - y1).</param>
public readonly record struct CocoBox(double X, double Y, double Width, double Height)
{
    /// <summary>Width times height: the area COCO gives a detection.</summary>
    public double Area => Width * Height;

    /// <summary>The box with corners (x1, y1) and (x2, y2).</summary>
    public static CocoBox FromCorners(double x1, double y1, double x2, double y2) => new(x1, y1, x2 - x1, y2 - y1);

    /// <summary>Null when the box is usable, else what is wrong with it (a coordinate not finite, a negative size).</summary>
    internal string? Problem() =>
        !double.IsFinite(X) || !double.IsFinite(Y) || !double.IsFinite(Width) || !double.IsFinite(Height)
            ? $"box [{X}, {Y}, {Width}, {Height}] has a coordinate that is not a finite number"
            : Width < 0 || Height < 0 ? $"box [{X}, {Y}, {Width}, {Height}] has a negative width or height" : null;

    /// <summary>
    /// Intersection over union of a detection with a ground-truth box as pycocotools computes it (no +1; when the
    /// ground truth is a crowd region the union is the detection's own area). Zero when they do not overlap.
    /// </summary>
    public static double IntersectionOverUnion(CocoBox detection, CocoBox groundTruth, bool crowd)
    {
        // The operations in the reference's order, so that a tie at a threshold breaks the same way.
        var w = Math.Min(detection.Width + detection.X, groundTruth.Width + groundTruth.X) - Math.Max(detection.X, groundTruth.X);
        if (w <= 0)
        {
            return 0;
        }

        var h = Math.Min(detection.Height + detection.Y, groundTruth.Height + groundTruth.Y) - Math.Max(detection.Y, groundTruth.Y);
        if (h <= 0)
        {
            return 0;
        }

        var inter = w * h;
        var da = detection.Width * detection.Height;
        var union = crowd ? da : da + (groundTruth.Width * groundTruth.Height) - inter;
        return inter / union;
    }
}
