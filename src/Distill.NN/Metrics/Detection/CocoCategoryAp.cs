namespace Distill.NN.Metrics.Detection;

/// <summary>One category's average precision (area all, 100 detections per image), for per-category reports.</summary>
/// <param name="CategoryId">The category.</param>
/// <param name="GroundTruths">Its ground-truth objects that count (not crowd).</param>
/// <param name="Ap">AP over the IoU thresholds 0.50:0.95; -1 when the category has no ground truth.</param>
/// <param name="Ap50">AP at IoU 0.50; -1 when the category has no ground truth.</param>
/// <param name="Ap75">AP at IoU 0.75; -1 when the category has no ground truth.</param>
public sealed record CocoCategoryAp(int CategoryId, int GroundTruths, double Ap, double Ap50, double Ap75);
