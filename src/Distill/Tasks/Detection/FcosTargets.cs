using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Tasks.Detection;

/// <summary>
/// The FCOS training targets of a batch (the official assignment): a location is a candidate for a box when it lies
/// inside the box, or with centre sampling strictly inside the box's centre region (the centre plus or minus radius x
/// the level's stride, clipped to the box); a candidate is kept when max(l, t, r, b) lies in its level's scale range
/// (both ends inclusive); of several boxes the one of smallest area wins ((w + 1) x (h + 1), the area convention the
/// official code ranks by; ties go to the first box). Crowd boxes never make positives; a location that is not
/// positive but lies inside a crowd box is ignored by the classification loss (label -1), so occluded remnants are
/// neither learned as objects nor as background (the official code has no crowd handling).
/// </summary>
/// <param name="Labels">Int64 [B, L]: class + 1 for a positive, 0 for a negative, -1 for an ignored location.</param>
/// <param name="Regression">Float32 [B, L, 4]: the winning box's (l, t, r, b) divided by the location's stride (only the positives' rows are meaningful).</param>
public sealed record FcosTargets(Tensor Labels, Tensor Regression)
{
    /// <summary>The official centre-sampling radius of the improved configs (in strides).</summary>
    public const double DefaultCenterSamplingRadius = 1.5;

    /// <summary>The "infinite" area of a location no box claims (the official INF).</summary>
    private const double Infinity = 100000000;

    /// <summary>Assigns the targets of every image of <paramref name="targets"/> to the locations of <paramref name="levels"/>.</summary>
    /// <param name="targets">The batch's boxes.</param>
    /// <param name="levels">The network's levels for the batch's input size.</param>
    /// <param name="centerSamplingRadius">The centre-sampling radius in strides; 0 turns centre sampling off (any location inside the box).</param>
    /// <param name="device">Where the targets go (the network's output device); CPU when null.</param>
    public static FcosTargets Assign(BoxBatch targets, FcosLevels levels, double centerSamplingRadius = DefaultCenterSamplingRadius, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentOutOfRangeException.ThrowIfNegative(centerSamplingRadius);
        var locations = levels.Locations();
        var xs = locations.Select(1, 0).Unsqueeze(1);
        var ys = locations.Select(1, 1).Unsqueeze(1);
        var strides = levels.LocationStrides();
        var ranges = levels.LocationScaleRanges();
        var labels = new Tensor[targets.Count];
        var regression = new Tensor[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            var boxes = targets.Boxes[i].To(DType.Float32, Device.Cpu);
            var crowd = targets.Crowd[i].To(DType.Bool, Device.Cpu);
            var keep = crowd.LogicalNot();
            var objects = SelectRows(boxes, keep);
            var classes = targets.Labels[i].To(DType.Int64, Device.Cpu).MaskedSelect(keep);
            var (label, reg) = AssignImage(objects, classes, xs, ys, strides, ranges, centerSamplingRadius);
            var crowdBoxes = SelectRows(boxes, crowd);
            if (crowdBoxes.Shape[0] > 0)
            {
                var insideCrowd = (Distances(crowdBoxes, xs, ys).Amin([2]) > 0.0).Any(1);
                label = label.MaskedFill(insideCrowd.LogicalAnd(label.Eq(0)), -1);
            }

            labels[i] = label;
            regression[i] = reg / strides.Unsqueeze(1);
        }

        var stackedLabels = Tensor.Stack(labels, 0);
        var stackedRegression = Tensor.Stack(regression, 0);
        var target = device ?? Device.Cpu;
        return target == Device.Cpu ? new(stackedLabels, stackedRegression) : new(stackedLabels.To(target), stackedRegression.To(target));
    }

    /// <summary>The centerness target of (l, t, r, b) distances [N, 4]: sqrt(min(l, r) / max(l, r) x min(t, b) / max(t, b)), [N].</summary>
    public static Tensor Centerness(Tensor regression)
    {
        ArgumentNullException.ThrowIfNull(regression);
        var l = regression.Select(1, 0);
        var t = regression.Select(1, 1);
        var r = regression.Select(1, 2);
        var b = regression.Select(1, 3);
        return (l.Minimum(r) / l.Maximum(r) * (t.Minimum(b) / t.Maximum(b))).Sqrt();
    }

    private static (Tensor Labels, Tensor Regression) AssignImage(Tensor boxes, Tensor classes, Tensor xs, Tensor ys, Tensor strides, Tensor ranges, double radius)
    {
        var count = xs.Shape[0];
        var n = boxes.Shape[0];
        if (n == 0)
        {
            return (Tensor.Zeros([count], DType.Int64), Tensor.Zeros([count, 4]));
        }

        var distances = Distances(boxes, xs, ys);
        Tensor inside;
        if (radius > 0)
        {
            var x1 = boxes.Select(1, 0).Unsqueeze(0);
            var y1 = boxes.Select(1, 1).Unsqueeze(0);
            var x2 = boxes.Select(1, 2).Unsqueeze(0);
            var y2 = boxes.Select(1, 3).Unsqueeze(0);
            var cx = (x1 + x2) / 2.0;
            var cy = (y1 + y2) / 2.0;
            var r = strides.Unsqueeze(1) * radius;
            var cx1 = (cx - r).Maximum(x1);
            var cy1 = (cy - r).Maximum(y1);
            var cx2 = (cx + r).Minimum(x2);
            var cy2 = (cy + r).Minimum(y2);
            inside = Tensor.Stack([xs - cx1, ys - cy1, cx2 - xs, cy2 - ys], 2).Amin([2]) > 0.0;
        }
        else
        {
            inside = distances.Amin([2]) > 0.0;
        }

        var largest = distances.Amax([2]);
        var cared = (largest >= ranges.Narrow(1, 0, 1)).LogicalAnd(largest <= ranges.Narrow(1, 1, 1));
        var area = ((boxes.Select(1, 2) - boxes.Select(1, 0) + 1) * (boxes.Select(1, 3) - boxes.Select(1, 1) + 1)).Unsqueeze(0).Expand(count, n);
        var claimed = area.MaskedFill(inside.LogicalAnd(cared).LogicalNot(), Infinity);
        var (minArea, winner) = claimed.Min(1);
        var labels = (classes.IndexSelect(0, winner) + 1).MaskedFill(minArea.Eq(Infinity), 0);
        var regression = distances.Gather(1, winner.Reshape(count, 1, 1).Expand(count, 1, 4)).Squeeze(1);
        return (labels, regression);
    }

    private static Tensor SelectRows(Tensor boxes, Tensor mask) =>
        boxes.MaskedSelect(mask.Unsqueeze(1).Expand(boxes.Shape[0], 4)).Reshape(-1, 4);

    // [L, N, 4]: (l, t, r, b) from every location to every box.
    private static Tensor Distances(Tensor boxes, Tensor xs, Tensor ys) =>
        Tensor.Stack([xs - boxes.Select(1, 0).Unsqueeze(0), ys - boxes.Select(1, 1).Unsqueeze(0), boxes.Select(1, 2).Unsqueeze(0) - xs, boxes.Select(1, 3).Unsqueeze(0) - ys], 2);
}
