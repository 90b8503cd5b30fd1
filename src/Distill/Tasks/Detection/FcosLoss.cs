using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.Torch;
using Distill.Torch.Distributed;
using F = Distill.Torch.Functional;

namespace Distill.Tasks.Detection;

/// <summary>
/// The FCOS training loss on the detection network's output [B, L, K + 5] (class logits, l, t, r, b in strides,
/// centerness logit): the sigmoid focal loss over every non-ignored location and class, summed and divided by
/// max(positives, 1); the IoU-type loss of the positives in the official +1-smoothed (l, t, r, b) form, weighted by
/// the centerness targets and divided by their sum; the centerness BCE-with-logits summed over the positives and
/// divided by max(positives, 1). A batch without positives gives a regression and a centerness term of zero that
/// still belong to the graph (the sum of no predictions), as the official code does. Data-parallel (a process group
/// of W ranks), the normalisers are the official code's: the positives and the centerness-target sum of the whole job
/// (all-reduced) divided by W, the first at least 1, so the gradients averaged over the ranks are those of one process
/// with the whole batch whatever the split of the images.
/// </summary>
public static class FcosLoss
{
    /// <summary>Assigns the targets (<see cref="FcosTargets.Assign"/>) and computes the three terms.</summary>
    /// <exception cref="ArgumentException">An output that is not [B, L, K + 5] for the levels' L, or a batch of another size.</exception>
    public static FcosLosses Compute(Tensor output, BoxBatch targets, FcosLevels levels, FcosLossOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(levels);
        options ??= new FcosLossOptions();
        var shape = output.Shape;
        if (shape.Length != 3 || shape[1] != levels.Count || shape[2] < 6)
        {
            throw new ArgumentException($"the FCOS output must be [B, {levels.Count}, K + 5] for levels {string.Join("/", levels.Names)} of sizes {string.Join(", ", levels.Sizes)}, got [{string.Join(", ", shape)}]", nameof(output));
        }

        if (shape[0] != targets.Count)
        {
            throw new ArgumentException($"the FCOS output holds {shape[0]} images [{string.Join(", ", shape)}] but the targets {targets.Count}", nameof(targets));
        }

        return Compute(output, FcosTargets.Assign(targets, levels, options.CenterSamplingRadius, output.Device), options);
    }

    /// <summary>The three terms for targets already assigned.</summary>
    /// <param name="output">The network's output [B, L, K + 5].</param>
    /// <param name="assigned">The targets of every location.</param>
    /// <param name="options">The focal parameters and the IoU loss kind.</param>
    /// <param name="group">Data-parallel: the job's ranks, which normalise by the job's positives and centerness sum (null: this batch's).</param>
    public static FcosLosses Compute(Tensor output, FcosTargets assigned, FcosLossOptions? options = null, IProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(assigned);
        options ??= new FcosLossOptions();
        var (b, l, k) = (output.Shape[0], output.Shape[1], output.Shape[2] - 5);
        var logits = output.Narrow(2, 0, k);
        var regression = output.Narrow(2, k, 4);
        var centerness = output.Select(2, k + 4);
        var labels = assigned.Labels;
        var positive = labels > 0.0;
        var positives = positive.Sum().Item<long>();
        var target = assigned.Regression.To(output.DType).MaskedSelect(positive.Unsqueeze(2).Expand(b, l, 4)).Reshape(-1, 4);
        var ctrTarget = FcosTargets.Centerness(target);
        var ctrSum = positives == 0 ? 0 : ctrTarget.Sum().To(DType.Float64).Item<double>();
        var (normaliser, ctrNormaliser) = group is { WorldSize: > 1 } ? JobNormalisers(group, positives, ctrSum) : ((double)Math.Max(positives, 1), ctrSum);
        var classification = SigmoidFocalLoss(logits, labels, options.Alpha, options.Gamma).Sum() / normaliser;

        var predicted = regression.MaskedSelect(positive.Unsqueeze(2).Expand(b, l, 4)).Reshape(-1, 4);
        var ctr = centerness.MaskedSelect(positive);
        if (positives == 0)
        {
            return new FcosLosses(classification, predicted.Sum(), ctr.Sum(), 0, 0);
        }

        var reg = (IouLoss(predicted, target, options.IouLoss) * ctrTarget).Sum() / ctrNormaliser;
        var ctrLoss = F.BinaryCrossEntropyWithLogits(ctr, ctrTarget, reduction: Reduction.Sum) / normaliser;
        return new FcosLosses(classification, reg, ctrLoss, positives, ctrSum);
    }

    /// <summary>
    /// The sigmoid focal loss per location and class (FCOS's, without reduction): for labels [...] (class + 1, 0 for
    /// background, negative to ignore) and logits [..., K], -alpha (1 - p)^gamma log p for the labelled class and
    /// -(1 - alpha) p^gamma log(1 - p) for every other class of a non-ignored location.
    /// </summary>
    public static Tensor SigmoidFocalLoss(Tensor logits, Tensor labels, double alpha = 0.25, double gamma = 2)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        var k = logits.Shape[^1];
        var classes = Tensor.Arange(1, k + 1, 1, DType.Int64, logits.Device);
        var t = labels.Unsqueeze(-1);
        var isClass = t.Eq(classes).To(logits.DType);
        var isOther = t.Eq(classes).LogicalNot().LogicalAnd(t >= 0.0).To(logits.DType);
        var p = logits.Sigmoid();
        var logP = LogSigmoid(logits);
        var log1mP = LogSigmoid(logits.Neg());
        var term1 = (1 - p).Pow(gamma) * logP;
        var term2 = p.Pow(gamma) * log1mP;
        return (isClass * term1 * alpha).Neg() - (isOther * term2 * (1 - alpha));
    }

    /// <summary>
    /// FCOS's IoU-type loss per box for (l, t, r, b) predictions and targets [N, 4] (no reduction): IoU = (I + 1) / (U + 1),
    /// GIoU = IoU - (E - U) / E with E the enclosing area + 1e-7.
    /// </summary>
    public static Tensor IouLoss(Tensor predicted, Tensor target, FcosIouLoss kind)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(target);
        var (pl, pt, pr, pb) = (predicted.Select(1, 0), predicted.Select(1, 1), predicted.Select(1, 2), predicted.Select(1, 3));
        var (tl, tt, tr, tb) = (target.Select(1, 0), target.Select(1, 1), target.Select(1, 2), target.Select(1, 3));
        var targetArea = (tl + tr) * (tt + tb);
        var predictedArea = (pl + pr) * (pt + pb);
        var wIntersect = pl.Minimum(tl) + pr.Minimum(tr);
        var gwIntersect = pl.Maximum(tl) + pr.Maximum(tr);
        var hIntersect = pb.Minimum(tb) + pt.Minimum(tt);
        var ghIntersect = pb.Maximum(tb) + pt.Maximum(tt);
        var enclosing = (gwIntersect * ghIntersect) + 1e-7;
        var intersect = wIntersect * hIntersect;
        var union = targetArea + predictedArea - intersect;
        var iou = (intersect + 1.0) / (union + 1.0);
        return kind switch
        {
            FcosIouLoss.Iou => iou.Log().Neg(),
            FcosIouLoss.LinearIou => 1 - iou,
            _ => 1 - (iou - ((enclosing - union) / enclosing)),
        };
    }

    /// <summary>
    /// The official data-parallel normalisers: the job's positives / W (at least 1) and the job's centerness-target sum / W,
    /// from one all-reduce that every rank makes, with or without positives of its own.
    /// </summary>
    private static (double Positives, double Centerness) JobNormalisers(IProcessGroup group, long positives, double ctrSum)
    {
        using var scope = DisposeScope.Enter();
        var sums = Tensor.From(new[] { positives, ctrSum }, 2);
        group.AllReduce([sums]);
        var job = sums.ToArray<double>();
        return (Math.Max(job[0] / group.WorldSize, 1.0), job[1] / group.WorldSize);
    }

    // log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)), finite for every x.
    private static Tensor LogSigmoid(Tensor x) => x.ClampMax(0) - x.Abs().Neg().Exp().Log1p();
}
