using Distill.Torch;

namespace Distill.NN.Detection;

/// <summary>
/// Operations on boxes (x1, y1, x2, y2) in continuous pixel coordinates, with torchvision's semantics (ops.box_area,
/// ops.box_iou, ops.generalized_box_iou, ops.nms, ops.batched_nms, ops.clip_boxes_to_image): areas are
/// (x2 - x1) * (y2 - y1) without the +1 pixel convention of older detection code. The elementwise ops keep the
/// autograd graph; the suppression ops run on the host and return indices.
/// </summary>
public static class BoxOps
{
    /// <summary>The areas of boxes [N, 4]: (x2 - x1) * (y2 - y1), [N].</summary>
    /// <exception cref="ArgumentException">Not a [N, 4] tensor.</exception>
    public static Tensor Area(Tensor boxes)
    {
        CheckBoxes(boxes, nameof(boxes));
        return (boxes.Select(1, 2) - boxes.Select(1, 0)) * (boxes.Select(1, 3) - boxes.Select(1, 1));
    }

    /// <summary>The pairwise intersection over union of boxes a [N, 4] and b [M, 4]: [N, M] (torchvision's box_iou).</summary>
    /// <exception cref="ArgumentException">Not [N, 4] and [M, 4] tensors.</exception>
    public static Tensor Iou(Tensor a, Tensor b)
    {
        var (inter, union) = InterUnion(a, b);
        return inter / union;
    }

    /// <summary>
    /// The pairwise generalised IoU of boxes a [N, 4] and b [M, 4]: IoU - (C - U) / C with C the area of the
    /// smallest box enclosing both (torchvision's generalized_box_iou), [N, M].
    /// </summary>
    /// <exception cref="ArgumentException">Not [N, 4] and [M, 4] tensors.</exception>
    public static Tensor GeneralizedIou(Tensor a, Tensor b)
    {
        var (inter, union) = InterUnion(a, b);
        var iou = inter / union;
        var a3 = a.Unsqueeze(1);
        var lt = a3.Narrow(2, 0, 2).Minimum(b.Narrow(1, 0, 2));
        var rb = a3.Narrow(2, 2, 2).Maximum(b.Narrow(1, 2, 2));
        var wh = (rb - lt).ClampMin(0);
        var enclosing = wh.Select(2, 0) * wh.Select(2, 1);
        return iou - ((enclosing - union) / enclosing);
    }

    /// <summary>
    /// Clips boxes [N, 4] to an image of <paramref name="height"/> x <paramref name="width"/> pixels: x to [0, width],
    /// y to [0, height] (continuous coordinates, so a box may end at the image's right edge).
    /// </summary>
    /// <exception cref="ArgumentException">Not a [N, 4] tensor.</exception>
    public static Tensor ClipToImage(Tensor boxes, double height, double width)
    {
        CheckBoxes(boxes, nameof(boxes));
        return Tensor.Stack(
            [boxes.Select(1, 0).Clamp(0, width), boxes.Select(1, 1).Clamp(0, height), boxes.Select(1, 2).Clamp(0, width), boxes.Select(1, 3).Clamp(0, height)], 1);
    }

    /// <summary>
    /// Greedy non-maximum suppression (torchvision's nms): boxes are visited by decreasing score (equal scores in
    /// their input order) and a box is dropped when its IoU with an already kept box is greater than
    /// <paramref name="iouThreshold"/>. Returns the kept indices, Int64 [n], by decreasing score.
    /// </summary>
    /// <exception cref="ArgumentException">Boxes not [N, 4] or scores not [N].</exception>
    public static Tensor Nms(Tensor boxes, Tensor scores, double iouThreshold) => Suppress(boxes, scores, null, iouThreshold);

    /// <summary>
    /// Class-wise non-maximum suppression (torchvision's batched_nms): <see cref="Nms"/> within each category of
    /// <paramref name="categories"/> (Int64 [N]), boxes of different categories never suppress each other. Returns the
    /// kept indices over all categories, Int64 [n], by decreasing score.
    /// </summary>
    /// <exception cref="ArgumentException">Boxes not [N, 4], or scores or categories not [N].</exception>
    public static Tensor BatchedNms(Tensor boxes, Tensor scores, Tensor categories, double iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(categories);
        return Suppress(boxes, scores, categories, iouThreshold);
    }

    private static Tensor Suppress(Tensor boxes, Tensor scores, Tensor? categories, double iouThreshold)
    {
        CheckBoxes(boxes, nameof(boxes));
        ArgumentNullException.ThrowIfNull(scores);
        var n = boxes.Shape[0];
        CheckVector(scores, n, "scores", boxes);
        if (categories is not null)
        {
            CheckVector(categories, n, "categories", boxes);
        }

        var device = boxes.Device;
        if (n == 0)
        {
            return Tensor.Zeros([0], DType.Int64, device);
        }

        var b = boxes.Detach().To(DType.Float64, Device.Cpu).Contiguous().ToArray<double>();
        var s = scores.Detach().To(DType.Float64, Device.Cpu).Contiguous().ToArray<double>();
        var c = categories?.To(DType.Int64, Device.Cpu).Contiguous().ToArray<long>();
        var order = Enumerable.Range(0, (int)n).OrderByDescending(i => s[i]).ToArray();
        var areas = new double[n];
        for (var i = 0; i < n; i++)
        {
            areas[i] = (b[(4 * i) + 2] - b[4 * i]) * (b[(4 * i) + 3] - b[(4 * i) + 1]);
        }

        var suppressed = new bool[n];
        var keep = new List<long>();
        for (var oi = 0; oi < order.Length; oi++)
        {
            var i = order[oi];
            if (suppressed[i])
            {
                continue;
            }

            keep.Add(i);
            for (var oj = oi + 1; oj < order.Length; oj++)
            {
                var j = order[oj];
                if (suppressed[j] || (c is not null && c[i] != c[j]))
                {
                    continue;
                }

                var w = Math.Max(0, Math.Min(b[(4 * i) + 2], b[(4 * j) + 2]) - Math.Max(b[4 * i], b[4 * j]));
                var h = Math.Max(0, Math.Min(b[(4 * i) + 3], b[(4 * j) + 3]) - Math.Max(b[(4 * i) + 1], b[(4 * j) + 1]));
                var inter = w * h;
                if (inter / (areas[i] + areas[j] - inter) > iouThreshold)
                {
                    suppressed[j] = true;
                }
            }
        }

        var kept = Tensor.From(keep.ToArray(), keep.Count);
        return device == Device.Cpu ? kept : kept.To(device);
    }

    private static (Tensor Inter, Tensor Union) InterUnion(Tensor a, Tensor b)
    {
        CheckBoxes(a, nameof(a));
        CheckBoxes(b, nameof(b));
        var areaA = Area(a);
        var areaB = Area(b);
        var a3 = a.Unsqueeze(1);
        var lt = a3.Narrow(2, 0, 2).Maximum(b.Narrow(1, 0, 2));
        var rb = a3.Narrow(2, 2, 2).Minimum(b.Narrow(1, 2, 2));
        var wh = (rb - lt).ClampMin(0);
        var inter = wh.Select(2, 0) * wh.Select(2, 1);
        return (inter, areaA.Unsqueeze(1) + areaB - inter);
    }

    private static void CheckBoxes(Tensor boxes, string name)
    {
        ArgumentNullException.ThrowIfNull(boxes, name);
        var shape = boxes.Shape;
        if (shape.Length != 2 || shape[1] != 4)
        {
            throw new ArgumentException($"{name} must be boxes [N, 4] (x1, y1, x2, y2), got [{string.Join(", ", shape)}]", name);
        }
    }

    private static void CheckVector(Tensor t, long n, string name, Tensor boxes)
    {
        var shape = t.Shape;
        if (shape.Length != 1 || shape[0] != n)
        {
            throw new ArgumentException($"{name} must be [{n}] (one per box of boxes [{string.Join(", ", boxes.Shape)}]), got [{string.Join(", ", shape)}]", name);
        }
    }
}
