using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// Structured KD against PyTorch written from the official code (eng/golden/skd.py, tests/Fixtures/skd.safetensors):
/// the pair-wise term on 65×65 maps, the official 65×65 discriminator with its power iterations, and one training step
/// on 8×8 maps (the student's three terms and gradients, the discriminator's WGAN-GP or hinge loss, its gradients
/// through the double backward, and its SGD step). The inputs are float32 values; the reference computes in float64
/// from them and so does the method here, so torch's float64 tolerance (1e-7 + 1e-7 |expected|) applies: float64
/// rounding through these few-hundred-term chains stays many orders below it, while a wrong op, constant or order of
/// the power iterations moves values far beyond it.
/// </summary>
public sealed class SkdGoldenTests : IDisposable
{
    private readonly SafeTensorsFile _golden = SafeTensors.Load(FixtureFiles.PathOf("skd.safetensors"));

    public void Dispose() => _golden.Dispose();

    [Fact]
    public void PairLoss_On65x65Maps_PoolsNineNodesWithCeilMode_AndMatchesTheOfficialLossAndGradient()
    {
        using var scope = DisposeScope.Enter();
        var student = F64("pair65.student").RequireGrad();
        var loss = StructuredKnowledgeDistillation.PairLoss(student, F64("pair65.teacher"), 0.5);
        Expect(loss, "pair65.loss");
        loss.Backward();
        Expect(student.Grad!, "pair65.grad_student");
    }

    [Fact]
    public void Discriminator_OfficialLayoutAt65_ForwardAndEachForwardsPowerIteration_MatchTheOfficialCode()
    {
        using var scope = DisposeScope.Enter();
        using var d = new ScoreMapDiscriminator(2, 65, 65, convDim: 8);
        Assert.True(d.Official);
        Assert.Equal(4, d.Layers);
        Assert.Contains(d.NamedParameters(), p => p.Name == "attn2.gamma");
        d.LoadStateDict(State("d65.param."));
        d.To(DType.Float64);
        var input = F64("d65.input");
        Expect(d.Forward(input), "d65.out1");
        ExpectVectors(d, "d65.after1.");
        Expect(d.Forward(input), "d65.out2");
        ExpectVectors(d, "d65.after2.");
    }

    [Fact]
    public void Discriminator_FromTheSameSeed_IsInitialisedAsTheOfficialOne()
    {
        // Created in the official order (convs with their u and v, the last conv, the attention, the batch norm) from
        // PyTorch's generator: the same draws, so one float32 op's tolerance (the kaiming bound's rounding).
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(8);
        using var d = new ScoreMapDiscriminator(11, 8, 8, convDim: 16);
        var expected = State("init.");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), d.StateDict().Keys.Order(StringComparer.Ordinal));
        foreach (var (name, value) in d.StateDict())
        {
            var e = expected[name];
            var golden = new GoldenTensor(e.DType == DType.Int64 ? "int64" : "float32", e.Shape, e.To(DType.Float64, Device.Cpu, copy: true).ToArray<double>());
            golden.AssertMatches(value, $"init.{name}");
        }
    }

    [Fact]
    public void Step_WganGp_StudentTermsGradientsDiscriminatorLossDoubleBackwardAndSgdStep_MatchTheOfficialCode()
    {
        using var scope = DisposeScope.Enter();
        using var method = Create("wgan-gp");
        var (inputs, logits, context) = Inputs();

        // G step: the three terms, one backward.
        var terms = method.ComputeLoss(inputs);
        Assert.Equal(["pixel", "pair", "holistic"], terms.Terms.Select(t => t.Name));
        Expect(terms["pixel"], "step.loss.pixel");
        Expect(terms["pair"], "step.loss.pair");
        Expect(terms["holistic"], "step.loss.holistic");
        terms.Total().Backward();
        Expect(logits.Grad!, "step.grad.logits");
        Expect(context.Grad!, "step.grad.context");
        ExpectVectors(method.Discriminator!, "step.after_g.");

        // D step on the detached maps, with the official code's alpha: SGD with the recipe's weight decay.
        using var optimizer = OptimizerFactory.CreateOwn(method, method, recipeWeightDecay: 5e-4);
        optimizer.ZeroGrad();
        method.OverrideRandomDraws(new Dictionary<string, Tensor> { ["alpha"] = F64("step.alpha") });
        var own = method.ComputeOwnLoss(inputs.DetachStudent());
        Assert.Equal(["d_adv", "d_gp", "d_real", "d_fake"], own.Terms.Select(t => t.Name));
        foreach (var name in new[] { "d_adv", "d_gp", "d_real", "d_fake" })
        {
            Expect(own[name], $"step.loss.{name}");
        }

        own.Total().Backward();
        foreach (var (name, p) in method.Discriminator!.NamedParameters())
        {
            Expect(p.Grad!, $"step.grad_d.{name}");
        }

        optimizer.Step();
        foreach (var (name, p) in method.Discriminator.NamedParameters())
        {
            Expect(p, $"step.after_sgd.{name}");
        }

        ExpectVectors(method.Discriminator, "step.after_d.");
    }

    [Fact]
    public void Step_Hinge_StudentTermAndDiscriminatorLossAndGradients_MatchTheOfficialCode()
    {
        using var scope = DisposeScope.Enter();
        using var method = Create("hinge");
        Assert.Empty(method.RandomDraws);
        var (inputs, _, _) = Inputs();
        Expect(method.ComputeLoss(inputs)["holistic"], "hinge.loss.holistic");
        method.ZeroGrad();
        var own = method.ComputeOwnLoss(inputs.DetachStudent());
        Assert.Equal(["d_adv", "d_real", "d_fake"], own.Terms.Select(t => t.Name));
        Expect(own["d_adv"], "hinge.loss.d_adv");
        own.Total().Backward();
        foreach (var (name, p) in method.Discriminator!.NamedParameters())
        {
            Expect(p.Grad!, $"hinge.grad_d.{name}");
        }
    }

    private StructuredKnowledgeDistillation Create(string adversarial)
    {
        var context = new MethodContext(
            new Dictionary<string, long[]> { ["logits"] = [1, 11, 8, 8], ["context"] = [1, 6, 8, 8] },
            new Dictionary<string, long[]> { ["logits"] = [1, 11, 8, 8], ["context"] = [1, 10, 8, 8] });
        var method = new StructuredKnowledgeDistillation(new StructuredKnowledgeDistillation.Options { DConvDim = 16, AdvLoss = adversarial }, context);
        method.Discriminator!.LoadStateDict(State("step.d."));
        method.To(DType.Float64);
        return method;
    }

    private (DistillationInputs Inputs, Tensor Logits, Tensor Context) Inputs()
    {
        var logits = F64("step.student").RequireGrad();
        var context = F64("step.student_context").RequireGrad();
        var inputs = new DistillationInputs(logits, F64("step.teacher"), new MaskBatch(Tensor.Zeros([3, 64, 64], DType.Int64)), Tensor.Zeros([3], DType.Int64),
            new FeatureMaps(new Dictionary<string, Tensor> { ["context"] = context }, "student"),
            new FeatureMaps(new Dictionary<string, Tensor> { ["context"] = F64("step.teacher_context") }, "teacher"), 1);
        return (inputs, logits, context);
    }

    private Dictionary<string, Tensor> State(string prefix) =>
        _golden.Tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key[prefix.Length..], t => t.Value, StringComparer.Ordinal);

    private Tensor F64(string name) => _golden.Tensors[name].To(DType.Float64, Device.Cpu, copy: true);

    private void ExpectVectors(Distill.NN.Module discriminator, string prefix)
    {
        var buffers = discriminator.NamedBuffers().Where(b => b.Name.EndsWith("weight_u", StringComparison.Ordinal) || b.Name.EndsWith("weight_v", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(buffers);
        foreach (var (name, buffer) in buffers)
        {
            Expect(buffer, prefix + name);
        }
    }

    private void Expect(Tensor actual, string name)
    {
        var expected = _golden.Tensors.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"skd.safetensors has no '{name}'");
        new GoldenTensor("float64", expected.Shape, expected.ToArray<double>()).AssertMatches(actual.Detach(), name, GoldenTolerance.Float64);
    }
}
