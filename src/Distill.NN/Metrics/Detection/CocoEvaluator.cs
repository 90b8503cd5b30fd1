using System.Runtime.InteropServices;

namespace Distill.NN.Metrics.Detection;

/// <summary>
/// COCO box mAP with pycocotools' semantics (<c>COCOeval</c>, <c>iouType='bbox'</c>): IoU thresholds 0.50:0.05:0.95,
/// 101 recall points, at most 1, 10 or 100 detections per image and category, the area ranges all, small, medium
/// and large (the ground truth's area from its annotation, boundaries inclusive), crowd regions that absorb
/// detections and are never counted, and -1 for a summary with no ground truth to measure.
/// </summary>
/// <remarks>
/// Add the images with their ground truth first (<see cref="AddImage"/>), then the detections
/// (<see cref="AddDetection"/>); <see cref="Evaluate"/> can be called any number of times. Categories without
/// ground truth are left out of every mean, so detections of such a category cost nothing.
/// </remarks>
public sealed class CocoEvaluator
{
    private const int MaxDetectionsEvaluated = 100;

    private readonly int[] _categories;
    private readonly Dictionary<int, int> _categoryIndex;
    private readonly SortedDictionary<long, ImageEntry> _images = [];
    private int _detections;

    /// <summary>Creates an evaluator for the given categories (the data set's category ids; order does not matter).</summary>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    public CocoEvaluator(IEnumerable<int> categoryIds)
    {
        ArgumentNullException.ThrowIfNull(categoryIds);
        _categories = [.. categoryIds.Distinct().Order()];
        if (_categories.Length == 0)
        {
            throw new ArgumentException("the evaluator needs at least one category id", nameof(categoryIds));
        }

        _categoryIndex = _categories.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
    }

    /// <summary>IoU thresholds 0.50, 0.55, ..., 0.95, built as numpy's linspace builds them.</summary>
    public static IReadOnlyList<double> IouThresholds { get; } = Linspace(0.5, 0.95, 10);

    /// <summary>Recall points 0, 0.01, ..., 1, built as numpy's linspace builds them.</summary>
    public static IReadOnlyList<double> RecallThresholds { get; } = Linspace(0.0, 1.0, 101);

    /// <summary>The limits on detections per image and category: 1, 10, 100.</summary>
    public static IReadOnlyList<int> MaxDetections { get; } = [1, 10, MaxDetectionsEvaluated];

    /// <summary>The area ranges (inclusive) by name: all, small (up to 32²), medium (32² to 96²), large (from 96²).</summary>
    public static IReadOnlyList<(string Name, double Low, double High)> AreaRanges { get; } =
        [("all", 0, 1e10), ("small", 0, 32 * 32), ("medium", 32 * 32, 96 * 96), ("large", 96 * 96, 1e10)];

    /// <summary>The categories evaluated, ascending.</summary>
    public IReadOnlyList<int> CategoryIds => _categories;

    /// <summary>Images added.</summary>
    public int ImageCount => _images.Count;

    /// <summary>Detections added.</summary>
    public int DetectionCount => _detections;

    /// <summary>Adds an image and its ground-truth objects (none is fine: every detection on it is then a false positive).</summary>
    /// <exception cref="ArgumentException">The image was added before, or an object's category, box or area is invalid.</exception>
    public void AddImage(long imageId, IEnumerable<CocoGroundTruth> groundTruths)
    {
        ArgumentNullException.ThrowIfNull(groundTruths);
        if (_images.ContainsKey(imageId))
        {
            throw new ArgumentException($"image {imageId} was added twice", nameof(imageId));
        }

        var entry = new ImageEntry(_categories.Length);
        var index = 0;
        foreach (var gt in groundTruths)
        {
            ArgumentNullException.ThrowIfNull(gt);
            var where = $"image {imageId}, ground truth {index}";
            var problem = gt.Box.Problem();
            if (problem != null)
            {
                throw new ArgumentException($"{where}: {problem}", nameof(groundTruths));
            }

            if (!double.IsFinite(gt.Area) || gt.Area < 0)
            {
                throw new ArgumentException($"{where}: area {gt.Area} is not a finite number >= 0", nameof(groundTruths));
            }

            entry.GroundTruths[CategoryIndex(gt.CategoryId, where, nameof(groundTruths))].Add(gt);
            index++;
        }

        _images.Add(imageId, entry);
    }

    /// <summary>Adds one detection on an image added before.</summary>
    /// <exception cref="ArgumentException">The image is unknown, or the category, box or score is invalid.</exception>
    public void AddDetection(CocoDetection detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        var where = $"detection {_detections} (image {detection.ImageId})";
        if (!_images.TryGetValue(detection.ImageId, out var entry))
        {
            throw new ArgumentException($"{where}: the image is not among the {_images.Count} images added", nameof(detection));
        }

        var problem = detection.Box.Problem();
        if (problem != null)
        {
            throw new ArgumentException($"{where}: {problem}", nameof(detection));
        }

        if (!double.IsFinite(detection.Score))
        {
            throw new ArgumentException($"{where}: score {detection.Score} is not a finite number", nameof(detection));
        }

        entry.Detections[CategoryIndex(detection.CategoryId, where, nameof(detection))].Add(detection);
        _detections++;
    }

    /// <summary>Adds detections in order (ties in score keep this order, as in a result file).</summary>
    public void AddDetections(IEnumerable<CocoDetection> detections)
    {
        ArgumentNullException.ThrowIfNull(detections);
        foreach (var d in detections)
        {
            AddDetection(d);
        }
    }

    /// <summary>Matches, accumulates and summarises: the 12 standard numbers and each category's AP.</summary>
    public CocoSummary Evaluate()
    {
        var thresholds = IouThresholds;
        int t = thresholds.Count, r = RecallThresholds.Count, k = _categories.Length, a = AreaRanges.Count, m = MaxDetections.Count;
        var precision = new double[t, r, k, a, m];
        var recall = new double[t, k, a, m];
        Fill(precision, -1);
        Fill(recall, -1);
        var countable = new int[k];
        for (var ki = 0; ki < k; ki++)
        {
            var perArea = new List<ImageResult>[a];
            for (var ai = 0; ai < a; ai++)
            {
                perArea[ai] = [];
            }

            foreach (var image in _images.Values)
            {
                var gts = image.GroundTruths[ki];
                var dts = SortByScore(image.Detections[ki], d => d.Score);
                if (gts.Count == 0 && dts.Count == 0)
                {
                    continue;
                }

                if (dts.Count > MaxDetectionsEvaluated)
                {
                    dts = dts.GetRange(0, MaxDetectionsEvaluated);
                }

                var ious = new double[dts.Count, gts.Count];
                for (var d = 0; d < dts.Count; d++)
                {
                    for (var g = 0; g < gts.Count; g++)
                    {
                        ious[d, g] = CocoBox.IntersectionOverUnion(dts[d].Box, gts[g].Box, gts[g].Crowd);
                    }
                }

                for (var ai = 0; ai < a; ai++)
                {
                    perArea[ai].Add(EvaluateImage(gts, dts, ious, AreaRanges[ai].Low, AreaRanges[ai].High));
                }
            }

            for (var ai = 0; ai < a; ai++)
            {
                var results = perArea[ai];
                var npig = results.Sum(e => e.CountedGroundTruths);
                if (ai == 0)
                {
                    countable[ki] = npig;
                }

                if (npig == 0)
                {
                    continue;
                }

                for (var mi = 0; mi < m; mi++)
                {
                    Accumulate(results, MaxDetections[mi], npig, precision, recall, ki, ai, mi);
                }
            }
        }

        return Summarise(precision, recall, countable);
    }

    private CocoSummary Summarise(double[,,,,] precision, double[,,,] recall, int[] countable)
    {
        var t50 = ThresholdIndex(0.5);
        var t75 = ThresholdIndex(0.75);
        var m100 = MaxDetections.Count - 1;
        int all = 0, small = 1, medium = 2, large = 3;
        double Ap(int? t, int area, int? category = null) => MeanOfPresent(precision, t, area, m100, category);
        double Ar(int area, int mi) => MeanOfPresent(recall, area, mi);
        var perCategory = _categories.Select((c, ki) => new CocoCategoryAp(c, countable[ki], Ap(null, all, ki), Ap(t50, all, ki), Ap(t75, all, ki))).ToList();
        return new CocoSummary(
            Ap(null, all), Ap(t50, all), Ap(t75, all), Ap(null, small), Ap(null, medium), Ap(null, large),
            Ar(all, 0), Ar(all, 1), Ar(all, m100), Ar(small, m100), Ar(medium, m100), Ar(large, m100),
            perCategory);
    }

    // pycocotools picks the summary's threshold by equality with its linspace; -1 (none) would make the summary -1.
    private static int ThresholdIndex(double threshold)
    {
        for (var i = 0; i < IouThresholds.Count; i++)
        {
            if (IouThresholds[i] == threshold)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The mean of the precisions that are not -1 at area range a and max-detections m, over the thresholds (or one), recall points and categories (or one); -1 when there are none.</summary>
    private static double MeanOfPresent(double[,,,,] precision, int? threshold, int area, int maxDet, int? category)
    {
        if (threshold == -1)
        {
            return -1;
        }

        double sum = 0;
        long n = 0;
        for (var t = threshold ?? 0; t < (threshold + 1 ?? precision.GetLength(0)); t++)
        {
            for (var r = 0; r < precision.GetLength(1); r++)
            {
                for (var k = category ?? 0; k < (category + 1 ?? precision.GetLength(2)); k++)
                {
                    var v = precision[t, r, k, area, maxDet];
                    if (v > -1)
                    {
                        sum += v;
                        n++;
                    }
                }
            }
        }

        return n == 0 ? -1 : sum / n;
    }

    private static double MeanOfPresent(double[,,,] recall, int area, int maxDet)
    {
        double sum = 0;
        long n = 0;
        for (var t = 0; t < recall.GetLength(0); t++)
        {
            for (var k = 0; k < recall.GetLength(1); k++)
            {
                var v = recall[t, k, area, maxDet];
                if (v > -1)
                {
                    sum += v;
                    n++;
                }
            }
        }

        return n == 0 ? -1 : sum / n;
    }

    /// <summary>One image, one category, one area range: greedy matching in score order at every IoU threshold.</summary>
    private static ImageResult EvaluateImage(List<CocoGroundTruth> gts, List<CocoDetection> dts, double[,] ious, double low, double high)
    {
        var thresholds = IouThresholds;
        int tCount = thresholds.Count, gCount = gts.Count, dCount = dts.Count;

        // Ground truth outside the range or crowd is ignored; the ignored ones go last (stable).
        var ignoredByInput = gts.Select(g => g.Crowd || g.Area < low || g.Area > high).ToArray();
        var order = Enumerable.Range(0, gCount).OrderBy(g => ignoredByInput[g] ? 1 : 0).ToArray();
        var ignored = order.Select(g => ignoredByInput[g]).ToArray();
        var crowd = order.Select(g => gts[g].Crowd).ToArray();
        var result = new ImageResult(dts.Select(d => d.Score).ToArray(), tCount, ignored.Count(i => !i));
        if (gCount > 0 && dCount > 0)
        {
            for (var t = 0; t < tCount; t++)
            {
                var gtMatched = new bool[gCount];
                for (var d = 0; d < dCount; d++)
                {
                    var best = Math.Min(thresholds[t], 1 - 1e-10);
                    var match = -1;
                    for (var g = 0; g < gCount; g++)
                    {
                        // A matched ground truth takes no other detection unless it is a crowd region.
                        if (gtMatched[g] && !crowd[g])
                        {
                            continue;
                        }

                        // Once matched to a counted object, the ignored ones (all after it) cannot take over.
                        if (match > -1 && !ignored[match] && ignored[g])
                        {
                            break;
                        }

                        var iou = ious[d, order[g]];
                        if (iou < best)
                        {
                            continue;
                        }

                        best = iou;
                        match = g;
                    }

                    if (match == -1)
                    {
                        continue;
                    }

                    result.Ignored[t, d] = ignored[match];
                    result.Matched[t, d] = true;
                    gtMatched[match] = true;
                }
            }
        }

        // An unmatched detection outside the area range is not counted against the range.
        for (var d = 0; d < dCount; d++)
        {
            var area = dts[d].Box.Area;
            if (area < low || area > high)
            {
                for (var t = 0; t < tCount; t++)
                {
                    result.Ignored[t, d] |= !result.Matched[t, d];
                }
            }
        }

        return result;
    }

    /// <summary>All images of one category and area range at one detection limit: the precision at each recall point and the final recall.</summary>
    private static void Accumulate(List<ImageResult> results, int maxDet, int npig, double[,,,,] precision, double[,,,] recall, int k, int a, int m)
    {
        var entries = new List<(ImageResult Image, int Index)>();
        foreach (var e in results)
        {
            for (var d = 0; d < Math.Min(maxDet, e.Scores.Length); d++)
            {
                entries.Add((e, d));
            }
        }

        var sorted = SortByScore(entries, x => x.Image.Scores[x.Index]);
        var nd = sorted.Count;
        var eps = Math.BitIncrement(1.0) - 1.0;
        var rc = new double[nd];
        var pr = new double[nd];
        for (var t = 0; t < IouThresholds.Count; t++)
        {
            long tp = 0, fp = 0;
            for (var i = 0; i < nd; i++)
            {
                var (image, d) = sorted[i];
                if (!image.Ignored[t, d])
                {
                    if (image.Matched[t, d])
                    {
                        tp++;
                    }
                    else
                    {
                        fp++;
                    }
                }

                rc[i] = (double)tp / npig;
                pr[i] = tp / ((double)fp + tp + eps);
            }

            recall[t, k, a, m] = nd > 0 ? rc[nd - 1] : 0;

            // The precision envelope: non-increasing from the right.
            for (var i = nd - 1; i > 0; i--)
            {
                if (pr[i] > pr[i - 1])
                {
                    pr[i - 1] = pr[i];
                }
            }

            for (var ri = 0; ri < RecallThresholds.Count; ri++)
            {
                // The first detection whose recall reaches the point (searchsorted 'left'); none: precision 0.
                var index = LowerBound(rc, RecallThresholds[ri]);
                precision[t, ri, k, a, m] = index < nd ? pr[index] : 0;
            }
        }
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Highest score first; equal scores keep their order (numpy's mergesort of the negated scores).</summary>
    private static List<T> SortByScore<T>(IEnumerable<T> items, Func<T, double> score) => [.. items.OrderByDescending(score)];

    private static double[] Linspace(double start, double stop, int count)
    {
        // numpy: i * ((stop - start) / (count - 1)) + start, the last value set to stop exactly.
        var step = (stop - start) / (count - 1);
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (i * step) + start;
        }

        values[^1] = stop;
        return values;
    }

    private static void Fill(double[,,,,] array, double value) =>
        MemoryMarshal.CreateSpan(ref array[0, 0, 0, 0, 0], array.Length).Fill(value);

    private static void Fill(double[,,,] array, double value) =>
        MemoryMarshal.CreateSpan(ref array[0, 0, 0, 0], array.Length).Fill(value);

    private int CategoryIndex(int categoryId, string where, string parameter) =>
        _categoryIndex.TryGetValue(categoryId, out var index)
            ? index
            : throw new ArgumentException($"{where}: category {categoryId} is not one of the evaluated categories [{string.Join(", ", _categories)}]", parameter);

    private sealed class ImageEntry(int categories)
    {
        public List<CocoGroundTruth>[] GroundTruths { get; } = [.. Enumerable.Range(0, categories).Select(_ => new List<CocoGroundTruth>())];

        public List<CocoDetection>[] Detections { get; } = [.. Enumerable.Range(0, categories).Select(_ => new List<CocoDetection>())];
    }

    private sealed class ImageResult(double[] scores, int thresholds, int countedGroundTruths)
    {
        public double[] Scores { get; } = scores;

        public bool[,] Matched { get; } = new bool[thresholds, scores.Length];

        public bool[,] Ignored { get; } = new bool[thresholds, scores.Length];

        public int CountedGroundTruths { get; } = countedGroundTruths;
    }
}
