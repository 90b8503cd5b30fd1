using Distill.NN.Metrics;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void TopK_CountsRowsWhoseLabelIsAmongTheKLargest()
    {
        using var scope = DisposeScope.Enter();
        var logits = Tensor.From([0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.1f, 0.2f, 0.7f], 3, 3);
        var labels = Tensor.From([1L, 1L, 0L]);
        Assert.Equal(1, Accuracy.TopKCorrect(logits, labels, 1));
        Assert.Equal(2, Accuracy.TopKCorrect(logits, labels, 2));
        Assert.Equal(1.0, Accuracy.TopK(logits, labels, 3));
        Assert.Throws<ArgumentException>(() => Accuracy.TopK(logits, labels, 4));
    }

    [Fact]
    public void ConfusionMatrix_GivesAccuracyPerClassAndMeanIoU_SkippingIgnoredLabels()
    {
        using var scope = DisposeScope.Enter();
        var m = new ConfusionMatrix(3, ignoreIndex: 255);
        m.Update(Tensor.From([0L, 0, 1, 2, 1, 0], 2, 3), Tensor.From([0L, 1, 1, 2, 255, 0], 2, 3));
        Assert.Equal(5, m.Total);
        Assert.Equal(1, m[1, 0]);
        Assert.Equal(0.8, m.OverallAccuracy, 12);
        Assert.Equal([1.0, 0.5, 1.0], m.PerClassAccuracy());
        var iou = m.IntersectionOverUnion();
        Assert.Equal([2.0 / 3, 0.5, 1.0], iou);
        Assert.Equal((2.0 / 3 + 0.5 + 1.0) / 3, m.MeanIntersectionOverUnion(), 12);
        Assert.Throws<ArgumentException>(() => m.Update(Tensor.From([5L]), Tensor.From([0L])));
    }
}
