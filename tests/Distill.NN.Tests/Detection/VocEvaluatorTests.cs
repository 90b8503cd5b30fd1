using Distill.NN.Metrics.Detection;
using Xunit;

namespace Distill.NN.Tests.Detection;

/// <summary>VOC mAP@0.5 on cases known by hand; expected values are exact fractions (1e-12 covers the summation order).</summary>
public sealed class VocEvaluatorTests
{
    private const double Exact = 1e-12;

    private static VocDetection Det(long image, double x1, double y1, double x2, double y2, double score, int cls = 1) =>
        new(image, x1, y1, x2, y2, score, cls);

    [Theory]
    [InlineData(VocApMethod.Area, 5.0 / 6, 0.833333)]
    [InlineData(VocApMethod.ElevenPoint, 28.0 / 33, 0.848485)]
    public void HandDerivedCase_GivesTheValuesWorkedOutByHand(VocApMethod method, double exact, double rounded)
    {
        // The COCO case's boxes as corners. +1 IoUs 0.829876, 0.714286 (a duplicate of a taken object), 0.714286, 0:
        // right, wrong, right, wrong; recall 1/2, 1/2, 1, 1 at precision 1, 1/2, 2/3, 1/2.
        var e = new VocEvaluator([1]);
        e.AddImage(1, [new VocGroundTruth(10, 10, 30, 30, 1)]);
        e.AddImage(2, [new VocGroundTruth(30, 30, 40, 40, 1)]);
        e.AddDetections([Det(1, 11, 11, 31, 31, 0.9), Det(1, 10, 10, 30, 24, 0.8), Det(2, 31, 30, 41, 42, 0.7), Det(2, 0, 0, 5, 5, 0.6)]);
        var s = e.Evaluate(method);
        Assert.Equal(exact, s.MeanAp, Exact);
        Assert.Equal(rounded, s.MeanAp, 5e-7);
        Assert.Equal(new VocClassAp(1, 2, 4, s.MeanAp), Assert.Single(s.PerClass));
    }

    [Fact]
    public void IoUOfExactlyHalf_IsNotAMatch()
    {
        // +1 areas: 10 x 10 = 100 and 10 x 5 = 50, all of it shared: IoU 0.5, not above it.
        var e = new VocEvaluator([1]);
        e.AddImage(1, [new VocGroundTruth(0, 0, 9, 9, 1)]);
        e.AddDetection(Det(1, 0, 0, 9, 4, 0.9));
        Assert.Equal(0.0, e.Evaluate().MeanAp);
        e.AddDetection(Det(1, 0, 0, 9, 5, 0.8)); // 60 / 100
        Assert.Equal(0.5, e.Evaluate().MeanAp, Exact);
    }

    [Fact]
    public void DifficultObject_IsNotCounted_AndItsDetectionIsNeitherRightNorWrong()
    {
        var e = new VocEvaluator([1]);
        e.AddImage(1, [new VocGroundTruth(0, 0, 9, 9, 1), new VocGroundTruth(50, 50, 59, 59, 1, Difficult: true)]);
        e.AddDetections([Det(1, 50, 50, 59, 59, 0.9), Det(1, 50, 50, 59, 59, 0.85), Det(1, 0, 0, 9, 9, 0.8)]);
        var s = e.Evaluate();
        Assert.Equal(1, s.PerClass[0].Positives);
        Assert.Equal(1.0, s.MeanAp, Exact);
        Assert.Equal(1.0, e.Evaluate(VocApMethod.ElevenPoint).MeanAp, Exact);
    }

    [Fact]
    public void ClassWithoutPositives_IsLeftOutOfTheMean()
    {
        var e = new VocEvaluator([1, 2]);
        e.AddImage(1, [new VocGroundTruth(0, 0, 9, 9, 1)]);
        e.AddDetections([Det(1, 0, 0, 9, 9, 0.9, cls: 2), Det(1, 0, 0, 9, 9, 0.5)]);
        var s = e.Evaluate();
        Assert.Equal(1.0, s.MeanAp, Exact);
        Assert.Equal(new VocClassAp(2, 0, 1, -1), s.PerClass[1]);
        Assert.Equal(-1, new VocEvaluator([1]).Evaluate().MeanAp);
    }

    [Fact]
    public void NoDetections_GiveApZero()
    {
        var e = new VocEvaluator([1]);
        e.AddImage(1, [new VocGroundTruth(0, 0, 9, 9, 1)]);
        Assert.Equal(0.0, e.Evaluate().MeanAp);
        Assert.Equal(0.0, e.Evaluate(VocApMethod.ElevenPoint).MeanAp);
    }

    [Fact]
    public void BadInput_IsRejectedWithAMessageNamingTheRecord()
    {
        var e = new VocEvaluator([1]);
        e.AddImage(1, []);
        Assert.Contains("image 2, ground truth 0: box (5, 0, 4, 9) has x2 < x1",
            Assert.Throws<ArgumentException>(() => e.AddImage(2, [new VocGroundTruth(5, 0, 4, 9, 1)])).Message, StringComparison.Ordinal);
        Assert.Contains("detection 0 (image 3): the image is not among",
            Assert.Throws<ArgumentException>(() => e.AddDetection(Det(3, 0, 0, 1, 1, 0.5))).Message, StringComparison.Ordinal);
        Assert.Contains("class 4 is not one of the evaluated classes [1]",
            Assert.Throws<ArgumentException>(() => e.AddDetection(Det(1, 0, 0, 1, 1, 0.5, cls: 4))).Message, StringComparison.Ordinal);
    }
}
