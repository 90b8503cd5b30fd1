using Distill.NN.Optim;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>Twelve steps of each optimizer from PyTorch's start, with PyTorch's gradients: the same parameters after every step.</summary>
public sealed class OptimizerGoldenTests
{
    private static readonly Dictionary<string, Func<Tensor[], Optimizer>> Optimizers = new()
    {
        ["sgd_plain"] = ps => new Sgd(ps, 0.1),
        ["sgd_momentum_nesterov_wd"] = ps => new Sgd(ps, 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true),
        ["sgd_momentum_dampening"] = ps => new Sgd(ps, 0.05, momentum: 0.9, dampening: 0.1),
        ["sgd_groups"] = ps => new Sgd([new ParameterGroup([ps[0]]), new ParameterGroup([ps[1]], learningRate: 0.01, weightDecay: 0.1)], 0.1, momentum: 0.9),
        ["adam_default"] = ps => new Adam(ps, 0.01),
        ["adam_wd_amsgrad"] = ps => new Adam(ps, 0.01, betas: (0.8, 0.99), eps: 1e-6, weightDecay: 0.01, amsGrad: true),
        ["adamw"] = ps => Adam.AdamW(ps, 0.01, weightDecay: 0.1),
    };

    public static TheoryData<string> Names => NnFixture.Names("optimizers");

    [Theory]
    [MemberData(nameof(Names))]
    public void Optimizer_TwelveSteps_MatchPyTorchTrajectory(string name)
    {
        var golden = NnFixture.Root.GetProperty("optimizers").GetProperty(name);
        using var scope = DisposeScope.Enter();
        var parameters = golden.GetProperty("start").EnumerateArray().Select(e => GoldenTensor.Parse(e).ToTensor().RequireGrad()).ToArray();
        using var optimizer = Optimizers[name](parameters);
        var coefficients = golden.GetProperty("coefficients").EnumerateArray().ToArray();
        var after = golden.GetProperty("after").EnumerateArray().ToArray();
        // Each step chains at most 16 elementwise float32 ops per parameter (the gradient p + c and weight decay,
        // Adam's two moments, the AMSGrad maximum, two bias corrections, square root, eps, division, learning
        // rate, update), and the steps chain one after another.
        var tolerance = GoldenTolerance.Float32Elementwise(16 * coefficients.Length, $"{name}, {coefficients.Length} steps");
        for (var step = 0; step < coefficients.Length; step++)
        {
            using var stepScope = DisposeScope.Enter();
            var c = coefficients[step].EnumerateArray().Select(e => GoldenTensor.Parse(e).ToTensor()).ToArray();
            optimizer.ZeroGrad();
            var loss = (parameters[0] * c[0]).Sum() + (parameters[1] * c[1]).Sum()
                + (0.5 * (parameters[0].Pow(2L).Sum() + parameters[1].Pow(2L).Sum()));
            loss.Backward();
            optimizer.Step();
            var expected = after[step].EnumerateArray().Select(GoldenTensor.Parse).ToArray();
            for (var i = 0; i < parameters.Length; i++)
            {
                expected[i].AssertMatches(parameters[i], $"{name} step {step + 1} parameter {i}", tolerance);
            }
        }
    }

    [Fact]
    public void OptimizerState_RoundTrips_AndContinuesIdentically()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(3);
        var a = Tensor.Randn([4]).RequireGrad();
        var b = a.Detach().Clone().RequireGrad();
        using var first = new Adam([a], 0.1);
        using var second = new Adam([b], 0.1);
        for (var i = 0; i < 3; i++)
        {
            Step(first, a, i);
        }

        second.LoadStateTensors(first.StateTensors());
        using (Autograd.NoGrad())
        {
            b.CopyFrom(a);
        }

        Step(first, a, 3);
        Step(second, b, 3);
        Assert.Equal(a.ToArray<float>(), b.ToArray<float>());
        Assert.Equal(["0.exp_avg", "0.exp_avg_sq", "0.step"], first.StateTensors().Keys);
    }

    [Fact]
    public void Sgd_RejectsNesterovWithoutMomentum() =>
        Assert.Throws<ArgumentException>(() => new Sgd([Tensor.Zeros([1]).RequireGrad().DetachFromScope()], 0.1, nesterov: true));

    [Fact]
    public void Optimizer_RejectsAParameterInTwoGroups()
    {
        using var scope = DisposeScope.Enter();
        var p = Tensor.Zeros([1]).RequireGrad();
        var e = Assert.Throws<ArgumentException>(() => new Sgd([new ParameterGroup([p]), new ParameterGroup([p])], 0.1));
        Assert.Contains("more than one group", e.Message, StringComparison.Ordinal);
    }

    private static void Step(Optimizer optimizer, Tensor p, int salt)
    {
        using var scope = DisposeScope.Enter();
        optimizer.ZeroGrad();
        ((p * (salt + 1)).Sum() + p.Pow(2L).Sum()).Backward();
        optimizer.Step();
    }
}
