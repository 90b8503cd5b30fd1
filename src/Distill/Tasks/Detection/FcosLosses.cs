using Distill.Torch;

namespace Distill.Tasks.Detection;

/// <summary>The three FCOS loss terms of a batch (each a scalar) and the normalisers they were divided by.</summary>
/// <param name="Classification">The focal loss summed over locations and classes, over max(positives, 1).</param>
/// <param name="Regression">The IoU-type loss of the positives weighted by their centerness targets, over the targets' sum (the sum of the positives' predictions, zero, when there is no positive).</param>
/// <param name="Centerness">The centerness BCE summed over positives, over max(positives, 1) (the sum of the positives' predictions, zero, when there is no positive).</param>
/// <param name="Positives">The batch's positive locations.</param>
/// <param name="CenternessTargetSum">The sum of the positives' centerness targets (0 without positives).</param>
public sealed record FcosLosses(Tensor Classification, Tensor Regression, Tensor Centerness, long Positives, double CenternessTargetSum)
{
    /// <summary>The sum of the three terms (all weight 1, as in FCOS).</summary>
    public Tensor Total => Classification + Regression + Centerness;
}
