using Distill.NN.Optim;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>The learning rate at each of 30 epochs equals PyTorch's scheduler's.</summary>
public sealed class SchedulerGoldenTests
{
    private static readonly Dictionary<string, Func<Optimizer, LearningRateScheduler>> Schedulers = new()
    {
        ["step"] = o => new StepLR(o, 7, 0.5),
        ["multistep"] = o => new MultiStepLR(o, [5, 12, 12], 0.1),
        ["cosine"] = o => new CosineAnnealingLR(o, 10, 1e-3),
        ["linear_warmup"] = o => new LinearLR(o, 0.25, 1.0, 5),
        ["polynomial"] = o => new PolynomialLR(o, 20, 0.9),
        ["one_cycle"] = o => new OneCycleLR(o, 0.5, totalSteps: 30),
        ["warmup_cosine"] = o => LambdaLR.WarmupCosine(o, 5, 30, 0.1, 0.01),
    };

    public static TheoryData<string> Names => NnFixture.Names("schedulers");

    [Theory]
    [MemberData(nameof(Names))]
    public void Scheduler_ThirtyEpochs_MatchPyTorch(string name)
    {
        var expected = NnFixture.Root.GetProperty("schedulers").GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        using var p = Tensor.Zeros([1]).RequireGrad();
        using var optimizer = new Sgd([p], 0.1, momentum: 0.9);
        var scheduler = Schedulers[name](optimizer);
        for (var epoch = 0; epoch < expected.Length; epoch++)
        {
            var actual = optimizer.Groups[0].LearningRate;
            // Both in float64 (PyTorch's schedulers compute rates in Python floats): torch's float64 tolerance.
            var tolerance = GoldenTolerance.Float64;
            Assert.True(tolerance.Accepts(actual, expected[epoch], 0), $"{name} epoch {epoch}: {actual:R}, PyTorch {expected[epoch]:R} (tolerance {tolerance.Describe(0)})");
            scheduler.Step();
        }
    }

    [Fact]
    public void FastForward_RestoresTheRateOfAResumedRun()
    {
        using var p = Tensor.Zeros([1]).RequireGrad();
        using var a = new Sgd([p], 0.1);
        using var b = new Sgd([p], 0.1);
        var continuous = new CosineAnnealingLR(a, 10);
        for (var i = 0; i < 7; i++)
        {
            continuous.Step();
        }

        var resumed = new CosineAnnealingLR(b, 10);
        resumed.FastForward(7);
        Assert.Equal(a.Groups[0].LearningRate, b.Groups[0].LearningRate);
        Assert.Equal(7, resumed.LastEpoch);
    }
}
