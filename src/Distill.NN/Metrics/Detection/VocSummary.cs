namespace Distill.NN.Metrics.Detection;

/// <summary>Pascal VOC mAP at IoU 0.5 and each class's AP.</summary>
/// <param name="MeanAp">The mean of the classes' AP over the classes with positives; -1 when none has any.</param>
/// <param name="Method">How the AP was computed.</param>
/// <param name="PerClass">Each class's AP, by ascending id.</param>
public sealed record VocSummary(double MeanAp, VocApMethod Method, IReadOnlyList<VocClassAp> PerClass);
