namespace Distill.NN.Metrics.Detection;

/// <summary>One ground-truth object of an image for <see cref="CocoEvaluator"/>.</summary>
/// <param name="Box">The box.</param>
/// <param name="CategoryId">The category (one of the evaluator's category ids).</param>
/// <param name="Area">
/// The annotation's area, which decides the area range (small, medium, large); COCO's is the mask area, not the
/// box's. Pass <see cref="CocoBox.Area"/> where there is no other.
/// </param>
/// <param name="Crowd">A crowd (ignore) region: never counted, absorbs any number of detections.</param>
public sealed record CocoGroundTruth(CocoBox Box, int CategoryId, double Area, bool Crowd = false);
