using Distill.NN.Optim;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>A warm-up chained into a schedule: its shape, and a restored position that continues bit for bit.</summary>
public sealed class SequentialLRTests
{
    private static SequentialLR WarmupPoly(Optimizer o) => new(o, [new LinearLR(o, 0.1, 1.0, 4), new PolynomialLR(o, 6, 1.0)], [4]);

    [Fact]
    public void LinearWarmupIntoPoly_RisesLinearlyThenDecaysToZero()
    {
        using var p = Tensor.Zeros([1]).RequireGrad();
        using var optimizer = new Sgd([p], 1.0);
        var scheduler = WarmupPoly(optimizer);
        var rates = new List<double>();
        for (var i = 0; i <= 10; i++)
        {
            rates.Add(optimizer.Groups[0].LearningRate);
            scheduler.Step();
        }

        // Warm-up 0.1, 0.325, 0.55, 0.775; poly (power 1) from 1 at its epoch 0 down to 0 after 6 steps.
        double[] expected = [0.1, 0.325, 0.55, 0.775, 1, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0];
        Assert.Equal(expected.Length, rates.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(rates[i] - expected[i]) <= 1e-15, $"step {i}: {rates[i]:R}, expected {expected[i]:R}");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(7)]
    public void Restore_MidWarmupOrMidSchedule_ContinuesExactlyAsTheUninterruptedRun(int at)
    {
        using var p = Tensor.Zeros([1]).RequireGrad();
        using var a = new Sgd([p], 0.3);
        using var b = new Sgd([p], 0.3);
        var straight = WarmupPoly(a);
        for (var i = 0; i < at; i++)
        {
            straight.Step();
        }

        // What a checkpoint holds: the position and the rates.
        var resumed = WarmupPoly(b);
        resumed.Restore(straight.LastEpoch, straight.LearningRates);
        for (var i = at; i < 10; i++)
        {
            straight.Step();
            resumed.Step();
            Assert.Equal(a.Groups[0].LearningRate, b.Groups[0].LearningRate);
        }
    }
}
