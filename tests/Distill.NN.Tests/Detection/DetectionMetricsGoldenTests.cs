using System.Text.Json;
using Distill.NN.Metrics.Detection;
using Distill.Testing;
using Xunit;

namespace Distill.NN.Tests.Detection;

/// <summary>
/// COCO and VOC metrics against eng/golden/coco_eval.py, our numpy re-implementation of pycocotools' COCOeval and the
/// VOC devkit's voc_eval, on seeded random scenes. Both sides compute in float64 from the same inputs and make the
/// same comparisons, so matches agree exactly; what may differ is the order of the final means (numpy sums pairwise,
/// up to 40,400 terms in [0, 1]): a few ulps of 1, well below the 1e-9 allowed.
/// </summary>
public sealed class DetectionMetricsGoldenTests
{
    private const double Tolerance = 1e-9;
    private static readonly JsonFixture Golden = new("detection_metrics.json");

    public static TheoryData<string> Seeds => Golden.Names(Golden.Root.GetProperty("random"));

    [Fact]
    public void Thresholds_AreNumpysLinspaceAndArangeValues_BitForBit()
    {
        Assert.Equal(Golden.Root.GetProperty("iou_thresholds").EnumerateArray().Select(v => v.GetDouble()), CocoEvaluator.IouThresholds);
        Assert.Equal(Golden.Root.GetProperty("recall_thresholds").EnumerateArray().Select(v => v.GetDouble()), CocoEvaluator.RecallThresholds);
        Assert.Equal(Golden.Root.GetProperty("voc_eleven_points").EnumerateArray().Select(v => v.GetDouble()), Enumerable.Range(0, 11).Select(k => k * 0.1));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Coco_TwelveNumbersAndPerCategoryAp_MatchTheReference(string seed)
    {
        var c = Golden.Root.GetProperty("random").GetProperty(seed);
        var e = new CocoEvaluator(c.GetProperty("categories").EnumerateArray().Select(v => v.GetInt32()));
        foreach (var image in c.GetProperty("images").EnumerateArray())
        {
            e.AddImage(image.GetProperty("id").GetInt64(), image.GetProperty("objects").EnumerateArray().Select(o =>
                new CocoGroundTruth(new CocoBox(D(o, 0), D(o, 1), D(o, 2), D(o, 3)), o[4].GetInt32(), D(o, 5), o[6].GetInt32() == 1)));
        }

        e.AddDetections(c.GetProperty("detections").EnumerateArray().Select(d =>
            new CocoDetection(d[0].GetInt64(), new CocoBox(D(d, 1), D(d, 2), D(d, 3), D(d, 4)), D(d, 5), d[6].GetInt32())));
        var s = e.Evaluate();
        var expected = c.GetProperty("stats").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.All(expected, v => Assert.True(v > 0, "every summary has something to measure in the golden scenes"));
        for (var i = 0; i < 12; i++)
        {
            Assert.True(Math.Abs(expected[i] - s.Stats[i]) <= Tolerance, $"stat {i}: expected {expected[i]:R}, got {s.Stats[i]:R}");
        }

        foreach (var category in s.PerCategory)
        {
            var want = c.GetProperty("per_category").GetProperty(category.CategoryId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(D(want, 0), category.Ap, Tolerance);
            Assert.Equal(D(want, 1), category.Ap50, Tolerance);
            Assert.Equal(D(want, 2), category.Ap75, Tolerance);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Voc_PerClassAp_MatchesTheReference_AreaAndElevenPoint(string seed)
    {
        var c = Golden.Root.GetProperty("random").GetProperty(seed);
        var e = new VocEvaluator(c.GetProperty("categories").EnumerateArray().Select(v => v.GetInt32()));
        foreach (var image in c.GetProperty("images").EnumerateArray())
        {
            e.AddImage(image.GetProperty("id").GetInt64(), image.GetProperty("objects").EnumerateArray().Select(o =>
                new VocGroundTruth(D(o, 0), D(o, 1), D(o, 0) + D(o, 2), D(o, 1) + D(o, 3), o[4].GetInt32(), o[7].GetInt32() == 1)));
        }

        e.AddDetections(c.GetProperty("detections").EnumerateArray().Select(d =>
            new VocDetection(d[0].GetInt64(), D(d, 1), D(d, 2), D(d, 1) + D(d, 3), D(d, 2) + D(d, 4), D(d, 5), d[6].GetInt32())));
        foreach (var (method, column) in new[] { (VocApMethod.Area, 0), (VocApMethod.ElevenPoint, 1) })
        {
            var s = e.Evaluate(method);
            foreach (var cls in s.PerClass)
            {
                var want = D(c.GetProperty("voc").GetProperty(cls.ClassId.ToString(System.Globalization.CultureInfo.InvariantCulture)), column);
                Assert.True(Math.Abs(want - cls.Ap) <= Tolerance, $"{method} class {cls.ClassId}: expected {want:R}, got {cls.Ap:R}");
            }
        }
    }

    private static double D(JsonElement array, int index) => array[index].GetDouble();
}
