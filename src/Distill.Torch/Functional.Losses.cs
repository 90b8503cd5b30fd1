using Distill.Torch.Interop;

namespace Distill.Torch;

public static partial class Functional
{
    /// <summary>
    /// Cross-entropy of logits [N, C, ...] against Int64 class indices [N, ...] or class probabilities
    /// [N, C, ...] (F.cross_entropy), with class weights, ignore_index and label smoothing.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
        long ignoreIndex = -100, double labelSmoothing = 0)
    {
        RejectBatchMean(reduction, "cross_entropy");
        return Tensor.Wrap(Native.dt_cross_entropy(input.Handle, target.Handle, OptionalHandle(weight), (int)reduction, ignoreIndex, labelSmoothing, out var r), r);
    }

    /// <summary>Negative log-likelihood of log-probabilities against class indices (F.nll_loss).</summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100)
    {
        RejectBatchMean(reduction, "nll_loss");
        return Tensor.Wrap(Native.dt_nll_loss(input.Handle, target.Handle, OptionalHandle(weight), (int)reduction, ignoreIndex, out var r), r);
    }

    /// <summary>
    /// KL(target || exp(input)) for log-probabilities input (F.kl_div). BatchMean divides the sum by the
    /// batch size, the reduction distillation losses use; Mean divides by the element count, as PyTorch does.
    /// </summary>
    public static Tensor KlDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false) =>
        Tensor.Wrap(Native.dt_kl_div(input.Handle, target.Handle, (int)reduction, logTarget ? 1 : 0, out var r), r);

    /// <summary>Mean squared error (F.mse_loss). Shapes must match (Distill refuses PyTorch's silent broadcasting).</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) => PointwiseLoss(PointwiseLossOp.Mse, input, target, reduction, 1);

    /// <summary>Mean absolute error (F.l1_loss).</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) => PointwiseLoss(PointwiseLossOp.L1, input, target, reduction, 1);

    /// <summary>Huber-like loss, quadratic below beta (F.smooth_l1_loss).</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1) =>
        PointwiseLoss(PointwiseLossOp.SmoothL1, input, target, reduction, beta);

    /// <summary>Binary cross-entropy on logits, stable (F.binary_cross_entropy_with_logits).</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? positiveWeight = null,
        Reduction reduction = Reduction.Mean)
    {
        RejectBatchMean(reduction, "binary_cross_entropy_with_logits");
        return Tensor.Wrap(Native.dt_bce_with_logits(input.Handle, target.Handle, OptionalHandle(weight), OptionalHandle(positiveWeight), (int)reduction, out var r), r);
    }

    private static Tensor PointwiseLoss(PointwiseLossOp op, Tensor input, Tensor target, Reduction reduction, double beta)
    {
        RejectBatchMean(reduction, op.ToString());
        return Tensor.Wrap(Native.dt_pointwise_loss((int)op, input.Handle, target.Handle, (int)reduction, beta, out var r), r);
    }

    private static void RejectBatchMean(Reduction reduction, string loss)
    {
        if (reduction == Reduction.BatchMean)
        {
            throw new ArgumentException($"{loss} has no batchmean reduction (only kl_div does); use None, Mean or Sum", nameof(reduction));
        }
    }
}
