namespace Distill.NN.Metrics.Detection;

/// <summary>One detection: a record of a COCO result file.</summary>
/// <param name="ImageId">The image it was made on.</param>
/// <param name="Box">The box.</param>
/// <param name="Score">The confidence; higher ranks first.</param>
/// <param name="CategoryId">The category.</param>
public sealed record CocoDetection(long ImageId, CocoBox Box, double Score, int CategoryId);
