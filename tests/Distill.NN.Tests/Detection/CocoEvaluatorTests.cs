using Distill.NN.Metrics.Detection;
using Xunit;

namespace Distill.NN.Tests.Detection;

/// <summary>
/// COCO box mAP on cases whose answer is known by hand. With one category and boxes that match a ground truth
/// exactly or not at all, AP at each threshold is (recall points reached) x (precision there) / 101, so the
/// expected values are exact fractions; the only rounding is pycocotools' eps in tp / (tp + fp + eps) and the
/// order of a mean over at most 4040 terms, far below the 1e-12 used.
/// </summary>
public sealed class CocoEvaluatorTests
{
    private const double Exact = 1e-12;

    private static CocoGroundTruth Gt(double x, double y, double w, double h, int category = 1, bool crowd = false, double? area = null) =>
        new(new CocoBox(x, y, w, h), category, area ?? (w * h), crowd);

    private static CocoDetection Det(long image, double x, double y, double w, double h, double score, int category = 1) =>
        new(image, new CocoBox(x, y, w, h), score, category);

    private static CocoEvaluator HandDerivedCase()
    {
        // The case worked out by hand: IoUs 0.822323, 0.7 (a duplicate), 0.692308, 0.
        var e = new CocoEvaluator([1]);
        e.AddImage(1, [Gt(10, 10, 20, 20)]);
        e.AddImage(2, [Gt(30, 30, 10, 10)]);
        e.AddDetections([Det(1, 11, 11, 20, 20, 0.9), Det(1, 10, 10, 20, 14, 0.8), Det(2, 31, 30, 10, 12, 0.7), Det(2, 0, 0, 5, 5, 0.6)]);
        return e;
    }

    [Fact]
    public void IoU_HasNoPlusOne_AndACrowdRegionDividesByTheDetectionAreaOnly()
    {
        Assert.Equal(361.0 / 439, CocoBox.IntersectionOverUnion(new(11, 11, 20, 20), new(10, 10, 20, 20), crowd: false), Exact);
        Assert.Equal(0.7, CocoBox.IntersectionOverUnion(new(10, 10, 20, 14), new(10, 10, 20, 20), crowd: false), Exact);
        Assert.Equal(90.0 / 130, CocoBox.IntersectionOverUnion(new(31, 30, 10, 12), new(30, 30, 10, 10), crowd: false), Exact);
        Assert.Equal(0.0, CocoBox.IntersectionOverUnion(new(0, 0, 5, 5), new(30, 30, 10, 10), crowd: false));
        Assert.Equal(0.0, CocoBox.IntersectionOverUnion(new(0, 0, 10, 10), new(10, 0, 10, 10), crowd: false)); // touching
        Assert.Equal(1.0, CocoBox.IntersectionOverUnion(new(60, 60, 10, 10), new(50, 50, 40, 40), crowd: true));
        Assert.Equal(0.25, CocoBox.IntersectionOverUnion(new(85, 85, 10, 10), new(50, 50, 40, 40), crowd: true));
    }

    [Fact]
    public void FromCorners_AdaptsX1Y1X2Y2ToXYWidthHeight()
    {
        Assert.Equal(new CocoBox(10, 10, 20, 20), CocoBox.FromCorners(10, 10, 30, 30));
        Assert.Equal(400, CocoBox.FromCorners(10, 10, 30, 30).Area);
    }

    [Fact]
    public void HandDerivedCase_GivesTheValuesWorkedOutByHand_AsExactFractions()
    {
        var s = HandDerivedCase().Evaluate();

        // .50-.65: 51 recall points at precision 1, 50 at 2/3; .70-.80: 51 points at 1; .85-.95: nothing.
        Assert.Equal(253.0 / 303, s.Ap50, Exact);
        Assert.Equal(51.0 / 101, s.Ap75, Exact);
        Assert.Equal(1471.0 / 3030, s.Ap, Exact);
        Assert.Equal(0.834983, s.Ap50, 5e-7);
        Assert.Equal(0.504950, s.Ap75, 5e-7);
        Assert.Equal(0.485479, s.Ap, 5e-7);

        // Both objects are small (areas 400 and 100): small equals all, medium and large have nothing to measure.
        Assert.Equal(s.Ap, s.ApSmall, Exact);
        Assert.Equal(-1, s.ApMedium);
        Assert.Equal(-1, s.ApLarge);

        // Recall 1 at .50-.65, 1/2 at .70-.80 (0.692 < .70), 0 above: 0.55, with any number of detections kept.
        Assert.Equal(0.55, s.Ar1, Exact);
        Assert.Equal(0.55, s.Ar10, Exact);
        Assert.Equal(0.55, s.Ar100, Exact);
        Assert.Equal(0.55, s.ArSmall, Exact);
        Assert.Equal([-1.0, -1.0], [s.ArMedium, s.ArLarge]);
        var category = Assert.Single(s.PerCategory);
        Assert.Equal((1, 2), (category.CategoryId, category.GroundTruths));
        Assert.Equal(s.Ap, category.Ap, Exact);
        Assert.Equal(s.Ap50, category.Ap50, Exact);
        Assert.Equal(s.Ap75, category.Ap75, Exact);
    }

    [Fact]
    public void FormatTable_PrintsPycocotoolsLines()
    {
        var lines = HandDerivedCase().Evaluate().FormatTable().Split('\n');
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.485", lines[0]);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.835", lines[1]);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000", lines[4]);
        Assert.Equal(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.550", lines[6]);
        Assert.Equal(13, lines.Length);
    }

    [Fact]
    public void CrowdRegion_AbsorbsEveryDetectionInsideIt_AndIsNotCounted()
    {
        // Ranked: a detection poking into the crowd region (IoU 0.25: false positive), two inside it (IoU 1 with the
        // region: ignored, the region takes any number), then the real object. Precision at the only true positive
        // is 1/2 at every threshold; counted as ordinary boxes the two inside would be false positives (1/4).
        var e = new CocoEvaluator([1]);
        e.AddImage(1, [Gt(0, 0, 10, 10), Gt(50, 50, 40, 40, crowd: true)]);
        e.AddDetections([Det(1, 85, 85, 10, 10, 0.95), Det(1, 60, 60, 10, 10, 0.9), Det(1, 70, 70, 10, 10, 0.8), Det(1, 0, 0, 10, 10, 0.7)]);
        var s = e.Evaluate();
        Assert.Equal(0.5, s.Ap, 1e-12);
        Assert.Equal(1.0, s.Ar100, Exact);
        Assert.Equal(1, s.PerCategory[0].GroundTruths);
    }

    [Fact]
    public void DetectionMatchedToACountedObject_DoesNotMoveToABetterIgnoredOne()
    {
        // IoU 0.62 with the object, 1 with the crowd region around it. Up to threshold 0.60 the object is matched first
        // and the search stops at the ignored region (a true positive); from 0.65 only the region is left (ignored).
        var e = new CocoEvaluator([1]);
        e.AddImage(1, [Gt(0, 0, 100, 100, crowd: true), Gt(0, 0, 10, 10)]);
        e.AddDetection(Det(1, 0, 0, 10, 6.2, 0.9));
        var s = e.Evaluate();
        Assert.Equal(1.0, s.Ap50, 1e-12);
        Assert.Equal(0.3, s.Ap, 1e-12);
        Assert.Equal(0.3, s.Ar100, 1e-12);
    }

    [Fact]
    public void AreaRanges_UseTheAnnotationArea_WithInclusiveBoundaries_AndIgnoreUnmatchedDetectionsOutsideTheRange()
    {
        // A: area exactly 32² (small and medium), B: exactly 96² (medium and large), C: 100 (small), never detected.
        // D: a false positive of area 2500 (medium), ranked first.
        var e = new CocoEvaluator([1]);
        e.AddImage(1, [Gt(0, 0, 32, 32), Gt(100, 100, 96, 96), Gt(300, 300, 10, 10)]);
        e.AddDetections([Det(1, 200, 200, 50, 50, 0.95), Det(1, 0, 0, 32, 32, 0.9), Det(1, 100, 100, 96, 96, 0.8)]);
        var s = e.Evaluate();

        // small: A and C count, B's detection matches an ignored object, D is outside: recall 1/2 at precision 1.
        Assert.Equal(51.0 / 101, s.ApSmall, Exact);
        Assert.Equal(0.5, s.ArSmall, Exact);

        // medium: A and B count, D is a false positive: precisions 1/2, 2/3 -> envelope 2/3 up to recall 1.
        Assert.Equal(2.0 / 3, s.ApMedium, 1e-12);
        Assert.Equal(1.0, s.ArMedium, Exact);

        // large: only B; A's detection matches an ignored object, D is outside the range.
        Assert.Equal(1.0, s.ApLarge, 1e-12);

        // all: three objects, FP then two TPs: recall 2/3 (67 recall points) at precision 2/3.
        Assert.Equal(67.0 / 101 * 2 / 3, s.Ap, 1e-12);
        Assert.Equal(2.0 / 3, s.Ar100, Exact);
    }

    [Fact]
    public void AreaRange_IsDecidedByTheAnnotationArea_NotTheBoxArea()
    {
        // A 40 x 40 box whose annotation (mask) area is 900: small, not medium.
        var e = new CocoEvaluator([1]);
        e.AddImage(1, [Gt(0, 0, 40, 40, area: 900)]);
        e.AddDetection(Det(1, 0, 0, 40, 40, 0.9));
        var s = e.Evaluate();
        Assert.Equal(1.0, s.ApSmall, 1e-12);
        Assert.Equal(-1, s.ApMedium);
    }

    [Fact]
    public void MaxDets_TruncatesPerImageAndPerCategory_NotPerImage()
    {
        // One image, two categories, one exact detection each. Keeping the top detection of the image overall
        // would drop category 1's (score 0.5) and give AR@1 = 1/2; pycocotools keeps one per category: 1.
        var e = new CocoEvaluator([1, 2]);
        e.AddImage(1, [Gt(0, 0, 10, 10, category: 1), Gt(50, 50, 10, 10, category: 2)]);
        e.AddDetections([Det(1, 50, 50, 10, 10, 0.9, category: 2), Det(1, 0, 0, 10, 10, 0.5, category: 1)]);
        var s = e.Evaluate();
        Assert.Equal(1.0, s.Ar1, Exact);
        Assert.Equal(1.0, s.Ar10, Exact);
    }

    [Fact]
    public void MaxDets_TruncatesWithinACategory()
    {
        // Two objects of one category, two exact detections: one kept at maxDets 1 (recall 1/2), both at 10.
        var e = new CocoEvaluator([1]);
        e.AddImage(1, [Gt(0, 0, 10, 10), Gt(50, 50, 10, 10)]);
        e.AddDetections([Det(1, 50, 50, 10, 10, 0.9), Det(1, 0, 0, 10, 10, 0.5)]);
        var s = e.Evaluate();
        Assert.Equal(0.5, s.Ar1, Exact);
        Assert.Equal(1.0, s.Ar10, Exact);
    }

    [Fact]
    public void CategoryWithoutGroundTruth_IsLeftOut_AndItsDetectionsCostNothing()
    {
        var e = new CocoEvaluator([1, 2]);
        e.AddImage(1, [Gt(0, 0, 10, 10, category: 1)]);
        e.AddDetections([Det(1, 0, 0, 10, 10, 0.99, category: 2), Det(1, 0, 0, 10, 10, 0.5, category: 1)]);
        var s = e.Evaluate();
        Assert.Equal(1.0, s.Ap, 1e-12);
        Assert.Equal(new CocoCategoryAp(2, 0, -1, -1, -1), s.PerCategory[1]);
        Assert.Contains("| 2 | - | - | - | 0 |", s.FormatPerCategory(), StringComparison.Ordinal);
        Assert.Contains("| cat | 100.0 | 100.0 | 100.0 | 1 |", s.FormatPerCategory(c => c == 1 ? "cat" : "dog"), StringComparison.Ordinal);
    }

    [Fact]
    public void NoDetections_GiveApAndArZero()
    {
        var e = new CocoEvaluator([1]);
        e.AddImage(1, [Gt(0, 0, 10, 10)]);
        e.AddImage(2, []);
        var s = e.Evaluate();
        Assert.Equal([0.0, 0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1], s.Stats);
    }

    [Fact]
    public void NoImages_GiveMinusOneEverywhere_AsPycocotoolsReportsNothingToMeasure()
    {
        var s = new CocoEvaluator([1, 2]).Evaluate();
        Assert.All(s.Stats, v => Assert.Equal(-1, v));
        Assert.All(s.PerCategory, c => Assert.Equal(-1, c.Ap));
    }

    [Fact]
    public void EqualScores_KeepTheOrderTheDetectionsWereAddedIn()
    {
        static double Ap(bool falsePositiveFirst)
        {
            var e = new CocoEvaluator([1]);
            e.AddImage(1, [Gt(0, 0, 10, 10)]);
            var fp = Det(1, 50, 50, 10, 10, 0.5);
            var tp = Det(1, 0, 0, 10, 10, 0.5);
            e.AddDetections(falsePositiveFirst ? [fp, tp] : [tp, fp]);
            return e.Evaluate().Ap;
        }

        Assert.Equal(0.5, Ap(falsePositiveFirst: true), 1e-12);
        Assert.Equal(1.0, Ap(falsePositiveFirst: false), 1e-12);
    }

    [Fact]
    public void BadInput_IsRejectedWithAMessageNamingTheRecord()
    {
        var e = new CocoEvaluator([1, 3]);
        e.AddImage(7, [Gt(0, 0, 10, 10)]);
        Assert.Contains("image 7 was added twice", Assert.Throws<ArgumentException>(() => e.AddImage(7, [])).Message, StringComparison.Ordinal);
        Assert.Contains("image 8, ground truth 1: category 2 is not one of the evaluated categories [1, 3]",
            Assert.Throws<ArgumentException>(() => e.AddImage(8, [Gt(0, 0, 1, 1), Gt(0, 0, 1, 1, category: 2)])).Message, StringComparison.Ordinal);
        Assert.Contains("negative width or height",
            Assert.Throws<ArgumentException>(() => e.AddImage(9, [Gt(0, 0, -1, 1)])).Message, StringComparison.Ordinal);
        Assert.Contains("detection 0 (image 5): the image is not among the 1 images added",
            Assert.Throws<ArgumentException>(() => e.AddDetection(Det(5, 0, 0, 1, 1, 0.5))).Message, StringComparison.Ordinal);
        Assert.Contains("category 4 is not one of",
            Assert.Throws<ArgumentException>(() => e.AddDetection(Det(7, 0, 0, 1, 1, 0.5, category: 4))).Message, StringComparison.Ordinal);
        Assert.Contains("score NaN",
            Assert.Throws<ArgumentException>(() => e.AddDetection(Det(7, 0, 0, 1, 1, double.NaN))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new CocoEvaluator([]));
        Assert.Equal(1, e.ImageCount);
        Assert.Equal(0, e.DetectionCount);
    }
}
