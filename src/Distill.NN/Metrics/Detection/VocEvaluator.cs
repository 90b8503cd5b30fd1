namespace Distill.NN.Metrics.Detection;

/// <summary>
/// Pascal VOC detection mAP at IoU 0.5, as the devkit's Python port (<c>voc_eval</c>) computes it: areas with the +1
/// pixel convention, a detection is right when its best IoU over the image's objects of its class is above 0.5
/// (strictly) and that object was not taken by a higher-scored detection (else it is a duplicate and wrong), a
/// detection whose best object is marked difficult is neither right nor wrong, and difficult objects are not counted.
/// </summary>
/// <remarks>Add the images with their ground truth first, then the detections. Ties in score keep the order of addition.</remarks>
public sealed class VocEvaluator
{
    private readonly int[] _classes;
    private readonly Dictionary<int, int> _classIndex;
    private readonly Dictionary<long, List<VocGroundTruth>[]> _images = [];
    private readonly List<VocDetection>[] _detections;

    /// <summary>Creates an evaluator for the given classes (order does not matter).</summary>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    public VocEvaluator(IEnumerable<int> classIds)
    {
        ArgumentNullException.ThrowIfNull(classIds);
        _classes = [.. classIds.Distinct().Order()];
        if (_classes.Length == 0)
        {
            throw new ArgumentException("the evaluator needs at least one class id", nameof(classIds));
        }

        _classIndex = _classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        _detections = [.. _classes.Select(_ => new List<VocDetection>())];
    }

    /// <summary>The IoU a detection must exceed.</summary>
    public const double IouThreshold = 0.5;

    /// <summary>Images added.</summary>
    public int ImageCount => _images.Count;

    /// <summary>Adds an image and its ground-truth objects.</summary>
    /// <exception cref="ArgumentException">The image was added before, or an object's class or box is invalid.</exception>
    public void AddImage(long imageId, IEnumerable<VocGroundTruth> groundTruths)
    {
        ArgumentNullException.ThrowIfNull(groundTruths);
        if (_images.ContainsKey(imageId))
        {
            throw new ArgumentException($"image {imageId} was added twice", nameof(imageId));
        }

        var perClass = _classes.Select(_ => new List<VocGroundTruth>()).ToArray();
        var index = 0;
        foreach (var gt in groundTruths)
        {
            ArgumentNullException.ThrowIfNull(gt);
            var where = $"image {imageId}, ground truth {index}";
            Check(gt.X1, gt.Y1, gt.X2, gt.Y2, where, nameof(groundTruths));
            perClass[ClassIndex(gt.ClassId, where, nameof(groundTruths))].Add(gt);
            index++;
        }

        _images.Add(imageId, perClass);
    }

    /// <summary>Adds one detection on an image added before.</summary>
    /// <exception cref="ArgumentException">The image is unknown, or the class, box or score is invalid.</exception>
    public void AddDetection(VocDetection detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        var where = $"detection {_detections.Sum(d => d.Count)} (image {detection.ImageId})";
        if (!_images.ContainsKey(detection.ImageId))
        {
            throw new ArgumentException($"{where}: the image is not among the {_images.Count} images added", nameof(detection));
        }

        Check(detection.X1, detection.Y1, detection.X2, detection.Y2, where, nameof(detection));
        if (!double.IsFinite(detection.Score))
        {
            throw new ArgumentException($"{where}: score {detection.Score} is not a finite number", nameof(detection));
        }

        _detections[ClassIndex(detection.ClassId, where, nameof(detection))].Add(detection);
    }

    /// <summary>Adds detections in order.</summary>
    public void AddDetections(IEnumerable<VocDetection> detections)
    {
        ArgumentNullException.ThrowIfNull(detections);
        foreach (var d in detections)
        {
            AddDetection(d);
        }
    }

    /// <summary>Each class's AP and their mean.</summary>
    public VocSummary Evaluate(VocApMethod method = VocApMethod.Area)
    {
        var perClass = new List<VocClassAp>();
        for (var c = 0; c < _classes.Length; c++)
        {
            var positives = _images.Values.Sum(g => g[c].Count(o => !o.Difficult));
            var taken = _images.ToDictionary(p => p.Key, p => new bool[p.Value[c].Count]);
            var dets = _detections[c].OrderByDescending(d => d.Score).ToList();
            var tp = new double[dets.Count];
            var fp = new double[dets.Count];
            for (var i = 0; i < dets.Count; i++)
            {
                var d = dets[i];
                var gts = _images[d.ImageId][c];
                var best = double.NegativeInfinity;
                var bestIndex = -1;
                for (var g = 0; g < gts.Count; g++)
                {
                    var iou = Iou(d, gts[g]);
                    if (iou > best)
                    {
                        best = iou;
                        bestIndex = g;
                    }
                }

                if (best > IouThreshold)
                {
                    if (!gts[bestIndex].Difficult)
                    {
                        if (!taken[d.ImageId][bestIndex])
                        {
                            tp[i] = 1;
                            taken[d.ImageId][bestIndex] = true;
                        }
                        else
                        {
                            fp[i] = 1;
                        }
                    }
                }
                else
                {
                    fp[i] = 1;
                }
            }

            var ap = positives == 0 ? -1 : AveragePrecision(tp, fp, positives, method);
            perClass.Add(new VocClassAp(_classes[c], positives, dets.Count, ap));
        }

        var counted = perClass.Where(p => p.Positives > 0).ToList();
        return new VocSummary(counted.Count == 0 ? -1 : counted.Average(p => p.Ap), method, perClass);
    }

    /// <summary>AP from per-detection right/wrong flags in score order (cumulated here) and the number of positives.</summary>
    private static double AveragePrecision(double[] tp, double[] fp, int positives, VocApMethod method)
    {
        var n = tp.Length;
        var rec = new double[n];
        var prec = new double[n];
        double tpSum = 0, fpSum = 0;
        var eps = Math.BitIncrement(1.0) - 1.0;
        for (var i = 0; i < n; i++)
        {
            tpSum += tp[i];
            fpSum += fp[i];
            rec[i] = tpSum / positives;
            prec[i] = tpSum / Math.Max(tpSum + fpSum, eps);
        }

        if (method == VocApMethod.ElevenPoint)
        {
            double ap = 0;
            for (var k = 0; k <= 10; k++)
            {
                var t = k * 0.1;
                var p = 0.0;
                var any = false;
                for (var i = 0; i < n; i++)
                {
                    if (rec[i] >= t)
                    {
                        p = any ? Math.Max(p, prec[i]) : prec[i];
                        any = true;
                    }
                }

                ap += p / 11.0;
            }

            return ap;
        }

        // Recall padded with 0 and 1, precision with 0 and 0; envelope from the right; sum where recall changes.
        var mrec = new double[n + 2];
        var mpre = new double[n + 2];
        mrec[n + 1] = 1;
        Array.Copy(rec, 0, mrec, 1, n);
        Array.Copy(prec, 0, mpre, 1, n);
        for (var i = n + 1; i > 0; i--)
        {
            mpre[i - 1] = Math.Max(mpre[i - 1], mpre[i]);
        }

        double area = 0;
        for (var i = 0; i < n + 1; i++)
        {
            if (mrec[i + 1] != mrec[i])
            {
                area += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
            }
        }

        return area;
    }

    /// <summary>IoU with the +1 convention, in the reference's order of operations.</summary>
    private static double Iou(VocDetection d, VocGroundTruth g)
    {
        var iw = Math.Max(Math.Min(g.X2, d.X2) - Math.Max(g.X1, d.X1) + 1.0, 0.0);
        var ih = Math.Max(Math.Min(g.Y2, d.Y2) - Math.Max(g.Y1, d.Y1) + 1.0, 0.0);
        var inters = iw * ih;
        var uni = ((d.X2 - d.X1 + 1.0) * (d.Y2 - d.Y1 + 1.0)) + ((g.X2 - g.X1 + 1.0) * (g.Y2 - g.Y1 + 1.0)) - inters;
        return inters / uni;
    }

    private static void Check(double x1, double y1, double x2, double y2, string where, string parameter)
    {
        if (!double.IsFinite(x1) || !double.IsFinite(y1) || !double.IsFinite(x2) || !double.IsFinite(y2))
        {
            throw new ArgumentException($"{where}: box ({x1}, {y1}, {x2}, {y2}) has a coordinate that is not a finite number", parameter);
        }

        if (x2 < x1 || y2 < y1)
        {
            throw new ArgumentException($"{where}: box ({x1}, {y1}, {x2}, {y2}) has x2 < x1 or y2 < y1", parameter);
        }
    }

    private int ClassIndex(int classId, string where, string parameter) =>
        _classIndex.TryGetValue(classId, out var index)
            ? index
            : throw new ArgumentException($"{where}: class {classId} is not one of the evaluated classes [{string.Join(", ", _classes)}]", parameter);
}
