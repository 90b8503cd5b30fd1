using Distill.Methods;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Dense;

/// <summary>KD on pixels (CIRKD's CriterionKD): every pixel one row, the KL summed over classes and averaged over B·h·w pixels.</summary>
public sealed class KdDenseTests
{
    [Fact]
    public void OnMaps_WhereEveryPixelIsTheSpecsExample_TheLossIsTheSpecsValue()
    {
        using var scope = DisposeScope.Enter();
        var student = Tensor.From([1.0, 2.0, 0.5], 1, 3, 1, 1).Expand([2, 3, 2, 3]).Contiguous();
        var teacher = Tensor.From([3.0, 1.0, 0.0], 1, 3, 1, 1).Expand([2, 3, 2, 3]).Contiguous();
        Assert.Equal(0.959472, KnowledgeDistillation.KdLoss(student, teacher, 4).Item<double>(), 6);
    }

    [Fact]
    public void OnMaps_TheKlIsAveragedOverPixels_NotOverTheBatch()
    {
        using var scope = DisposeScope.Enter();
        // One image, four pixels: one carries the spec's example, the other three have student = teacher (KL 0).
        var student = Tensor.From([1.0, 0, 0, 0, 2.0, 0, 0, 0, 0.5, 0, 0, 0], 1, 3, 2, 2);
        var teacher = Tensor.From([3.0, 0, 0, 0, 1.0, 0, 0, 0, 0.0, 0, 0, 0], 1, 3, 2, 2);
        Assert.Equal(0.959472 / 4, KnowledgeDistillation.KdLoss(student, teacher, 4).Item<double>(), 6);
    }

    [Fact]
    public void PixelRows_AreNhwcRows()
    {
        using var scope = DisposeScope.Enter();
        var maps = Tensor.Arange(12, DType.Float32).Reshape([1, 3, 2, 2]);
        Assert.Equal([0f, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], KnowledgeDistillation.PixelRows(maps).ToArray<float>());
    }

    [Fact]
    public void OnClassLogits_TheLossIsUnchanged_BitForBit()
    {
        using var scope = DisposeScope.Enter();
        var s = Tensor.Randn([5, 7]);
        var t = Tensor.Randn([5, 7]);
        var direct = Functional.KlDiv(Functional.LogSoftmax(s / 4, 1), Functional.Softmax(t / 4, 1), Reduction.BatchMean) * 16;
        Assert.Equal(direct.ToBytes(), KnowledgeDistillation.KdLoss(s, t, 4).ToBytes());
    }
}
