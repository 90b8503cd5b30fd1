using Distill.Engine;
using Distill.NN;
using Distill.NN.Optim;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>
/// The recipe keys optimizer: adamw, no_weight_decay_on, method_lr_mult, schedule: poly, step_per: iteration,
/// warmup_iters and grad_clip, built by <see cref="OptimizerFactory"/> exactly as the trainer builds them and stepped in
/// the trainer's order (zero grad, backward, clip, step, schedule step), against eng/golden/training_schedule.py.
/// The trainer itself is not driven here because it takes a classification model and a data loader, not fixed batches;
/// its per-iteration path is covered by the bit-exact resume in <see cref="TrainingRunTests"/>.
/// </summary>
public sealed class TrainingScheduleGoldenTests
{
    private static readonly JsonFixture Fixture = new("training_schedule.json");

    private static readonly TrainerOptions Recipe = new()
    {
        Epochs = 4,
        IterationsPerEpoch = 2,
        LearningRate = 0.01,
        Optimizer = "adamw",
        Betas = (0.9, 0.99),
        Eps = 1e-8,
        WeightDecay = 0.05,
        NoWeightDecayOn = ["bn", "bias"],
        MethodLrMult = 2,
        Schedule = "poly",
        Power = 0.9,
        StepPerIteration = true,
        WarmupIters = 2,
        WarmupStartFactor = 0.1,
        GradClip = 0.5,
    };

    [Fact]
    public void AdamWPolyWithWarmupAndClipping_MatchesPyTorchRatesNormsAndWeights()
    {
        using var scope = DisposeScope.Enter();
        var root = Fixture.Root;
        using var student = new Sequential(new Linear(4, 6, bias: false), new BatchNorm1d(6), new ReLU(), new Linear(6, 3));
        using var method = new Linear(3, 3);
        var initial = root.GetProperty("initial").EnumerateObject().ToDictionary(p => p.Name, p => GoldenTensor.Parse(p.Value).ToTensor(), StringComparer.Ordinal);
        student.LoadStateDict(Prefixed(initial, "student."));
        method.LoadStateDict(Prefixed(initial, "method."));

        var groups = OptimizerFactory.Groups(student, method, Recipe);
        using var optimizer = OptimizerFactory.Create(groups, Recipe);
        var scheduler = OptimizerFactory.CreateSchedule(optimizer, Recipe);
        var parameters = groups.SelectMany(g => g.Parameters).ToArray();
        Assert.Equal([0.05, 0.0, 0.05, 0.0], optimizer.Groups.Select(g => g.WeightDecay));

        var rates = root.GetProperty("rates").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var norms = root.GetProperty("norms").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var batches = root.GetProperty("batches").EnumerateArray().ToArray();
        student.Train();
        for (var step = 0; step < rates.Length; step++)
        {
            // The rates come from the same double-precision recursions as PyTorch's: equal up to a few ulps of pow.
            for (var g = 0; g < rates[step].Length; g++)
            {
                var actual = optimizer.Groups[g].LearningRate;
                Assert.True(Math.Abs(actual - rates[step][g]) <= 1e-12 * rates[step][g], $"step {step} group {g}: lr {actual:R}, PyTorch {rates[step][g]:R}");
            }

            if (step < batches.Length)
            {
                using var stepScope = DisposeScope.Enter();
                var x = GoldenTensor.Parse(batches[step].GetProperty("x")).ToTensor();
                var y = GoldenTensor.Parse(batches[step].GetProperty("y")).ToTensor();
                var t = GoldenTensor.Parse(batches[step].GetProperty("t")).ToTensor();
                optimizer.ZeroGrad();
                var output = student.Forward(x);
                var loss = F.CrossEntropy(output, y) + F.MseLoss(method.Forward(output), t);
                loss.Backward();
                var norm = GradientClipping.ClipGradNorm(parameters, Recipe.GradClip).Item<float>();

                // A float32 norm of ~1 over 45 gradient elements: a few ulps apart at most.
                Assert.True(Math.Abs(norm - norms[step]) <= 1e-5 * norms[step], $"step {step}: gradient norm {norm:R}, PyTorch {norms[step]:R}");
                optimizer.Step();
            }

            scheduler.Step();
        }

        // Six Adam steps move each weight by at most ~lr (<= 0.02) per step, with float32 rounding of the gradients
        // (~1e-7 relative) carried into each update: the weights (|w| < 1) agree far inside 1e-6 + 1e-5|w|.
        foreach (var property in root.GetProperty("final").EnumerateObject())
        {
            var (module, key) = property.Name.StartsWith("student.", StringComparison.Ordinal)
                ? ((Module)student, property.Name["student.".Length..])
                : (method, property.Name["method.".Length..]);
            GoldenTensor.Parse(property.Value).AssertMatches(module.StateDict()[key], property.Name);
        }
    }

    [Fact]
    public void GradientClipping_LeavesGradientsUnderTheLimitUnchanged()
    {
        using var scope = DisposeScope.Enter();
        using var p = Tensor.From([3f, 4f], [2]).RequireGrad();
        (p * p).Sum().Backward(); // gradient (6, 8), norm 10
        var norm = GradientClipping.ClipGradNorm([p], 20).Item<float>();
        Assert.Equal(10f, norm);
        Assert.Equal([6f, 8f], p.Grad!.ToArray<float>());
        GradientClipping.ClipGradNorm([p], 5);
        var clipped = p.Grad!.ToArray<float>();
        Assert.Equal(3f, clipped[0], 1e-5f);
        Assert.Equal(4f, clipped[1], 1e-5f);
    }

    /// <summary>
    /// As in PyTorch, cosine and poly reach their end at step T (the position the trainer leaves after the run's last
    /// step), one-cycle at its last step T - 1; multistep's milestones are epochs, also when stepping per iteration.
    /// </summary>
    [Theory]
    [InlineData("multistep", false, 0, 0.001)]
    [InlineData("multistep", true, 0, 0.001)]
    [InlineData("cosine", true, 0, 0.0001)]
    [InlineData("cosine", false, 0, 0.0001)]
    [InlineData("poly", true, 0, 0.0)]
    [InlineData("onecycle", true, -1, 0.1 / 25 / 1e4)]
    [InlineData("onecycle", false, -1, 0.1 / 25 / 1e4)]
    [InlineData("constant", true, 0, 0.1)]
    [InlineData("constant", false, 0, 0.1)]
    public void EverySchedule_PerEpochOrPerIteration_WithWarmup_ReachesItsEnd(string schedule, bool perIteration, int fromEnd, double end)
    {
        using var scope = DisposeScope.Enter();
        using var p = Tensor.Zeros([1]).RequireGrad();
        var options = new TrainerOptions
        {
            Epochs = 10,
            LearningRate = 0.1,
            Schedule = schedule,
            Milestones = [3, 6],
            EtaMin = 1e-4,
            StepPerIteration = perIteration,
            IterationsPerEpoch = 5,
            WarmupEpochs = schedule == "onecycle" ? 0 : 1,
        };
        using var optimizer = OptimizerFactory.Create([new ParameterGroup([p])], options);
        var scheduler = OptimizerFactory.CreateSchedule(optimizer, options);
        var steps = options.Epochs * (perIteration ? options.IterationsPerEpoch : 1);
        Assert.Equal(schedule == "onecycle" ? 0.1 / 25 : 0.01, optimizer.Groups[0].LearningRate, 12);
        for (var i = 0; i < steps + fromEnd; i++)
        {
            scheduler.Step();
        }

        Assert.Equal(end, optimizer.Groups[0].LearningRate, 12);
    }

    private static Dictionary<string, Tensor> Prefixed(Dictionary<string, Tensor> state, string prefix) =>
        state.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(e => e.Key[prefix.Length..], e => e.Value, StringComparer.Ordinal);
}
