using Distill.Torch;

namespace Distill.Tasks.Detection;

/// <summary>One image's detections, best first.</summary>
/// <param name="Boxes">Float32 [n, 4] (x1, y1, x2, y2) in the input's pixels, clipped to the image.</param>
/// <param name="Scores">Float32 [n]: sqrt(class probability x centerness).</param>
/// <param name="Labels">Int64 [n]: contiguous class indices 0..K-1.</param>
public sealed record FcosDetections(Tensor Boxes, Tensor Scores, Tensor Labels);
