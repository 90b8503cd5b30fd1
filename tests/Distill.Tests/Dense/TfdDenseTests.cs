using Distill.Methods;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Dense;

/// <summary>Tf-FD on a dilated backbone: equal-size stages (no pooling, channel slicing only) and a warm-up in iterations.</summary>
public sealed class TfdDenseTests
{
    [Fact]
    public void Inter_OnMapsOfEqualSize_IsTheMseOfTheFirstChannels_WithoutPooling()
    {
        using var scope = DisposeScope.Enter();
        var shallow = Tensor.From([1f, 2, 3, 4], 1, 2, 1, 2);
        var deep = Tensor.From([2f, 2, 9, 9, 0, 0], 1, 3, 1, 2);
        // ((1-2)² + 0 + (3-9)² + (4-9)²) / 4
        Assert.Equal(15.5, TeacherFreeFeatureDistillation.Inter(shallow, deep).To(DType.Float64).Item<double>(), 6);
    }

    [Fact]
    public void WarmupIters_ScalesTheTermsByIterationOverWarmup_AndIsFullAfterIt()
    {
        using var scope = DisposeScope.Enter();
        var stages = new Dictionary<string, long[]> { ["stage2"] = [2, 4, 4, 4], ["stage3"] = [2, 6, 4, 4] };
        using var tfd = (TeacherFreeFeatureDistillation)MethodFactory.Create("tfd", new Dictionary<string, object> { ["warmup_iters"] = 100 }, DenseSteps.Context(stages, null));
        var maps = new Dictionary<string, Tensor> { ["stage2"] = Tensor.Randn([2, 4, 4, 4]), ["stage3"] = Tensor.Randn([2, 6, 4, 4]) };
        var step = DenseSteps.Step(Tensor.Randn([2, 3, 4, 4]), null, maps);
        var quarter = tfd.ComputeLoss(step with { Iteration = 25 });
        var full = tfd.ComputeLoss(step with { Iteration = 100 });
        var later = tfd.ComputeLoss(step with { Iteration = 5000, Epoch = 1 });
        Assert.Equal(0.25 * full["tfd_intra"].To(DType.Float64).Item<double>(), quarter["tfd_intra"].To(DType.Float64).Item<double>(), 12);
        Assert.Equal(0.25 * full["tfd_inter"].To(DType.Float64).Item<double>(), quarter["tfd_inter"].To(DType.Float64).Item<double>(), 12);
        Assert.Equal(full["tfd_inter"].To(DType.Float64).Item<double>(), later["tfd_inter"].To(DType.Float64).Item<double>());
    }

    [Fact]
    public void WarmupIters_WithoutTheStepsIteration_IsAClearError()
    {
        using var scope = DisposeScope.Enter();
        var stages = new Dictionary<string, long[]> { ["stage2"] = [1, 4, 2, 2] };
        using var tfd = MethodFactory.Create("tfd", new Dictionary<string, object> { ["warmup_iters"] = 10 }, DenseSteps.Context(stages, null));
        var step = DenseSteps.Step(Tensor.Randn([1, 3, 2, 2]), null, new() { ["stage2"] = Tensor.Randn([1, 4, 2, 2]) });
        var e = Assert.Throws<ArgumentException>(() => tfd.ComputeLoss(step));
        Assert.Contains("tfd: warmup_iters 10 needs the step's iteration (1-based)", e.Message, StringComparison.Ordinal);
    }
}
