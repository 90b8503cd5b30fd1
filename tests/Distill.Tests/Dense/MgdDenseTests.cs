using Distill.Methods;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Dense;

/// <summary>MGD seg = MGD + CWD on the logit maps (the official segmentation distiller's use_logit term).</summary>
public sealed class MgdDenseTests
{
    private static readonly Dictionary<string, object> Seg = new() { ["student_tap"] = "stage4", ["teacher_tap"] = "stage4", ["mask"] = "spatial", ["mask_ratio"] = 0.75, ["alpha"] = 2e-5 };

    private static MethodContext Context(long[] logits) => DenseSteps.Context(new() { ["stage4"] = [1, 3, 2, 2], ["logits"] = logits }, new() { ["stage4"] = [1, 3, 2, 2], ["logits"] = logits });

    private static DistillationInputs Step(Tensor s, Tensor t) =>
        DenseSteps.Step(s, t, new() { ["stage4"] = Tensor.Randn([1, 3, 2, 2]) }, new() { ["stage4"] = Tensor.Randn([1, 3, 2, 2]) });

    [Fact]
    public void OnLogitMaps_TheCwdLogitTermIsOnByDefault_ThreeTimesCwdAtTau4()
    {
        using var scope = DisposeScope.Enter();
        using var mgd = MethodFactory.Create("mgd", Seg, Context([1, 2, 2, 2]));
        var (s, t) = DenseSteps.CwdExample();
        var terms = mgd.ComputeLoss(Step(s, t));
        Assert.Equal(["mgd", "cwd_logits"], terms.Terms.Select(x => x.Name));
        Assert.Equal(3 * DenseSteps.CwdExampleTau4, terms["cwd_logits"].To(DType.Float64).Item<double>(), 1e-5);
    }

    [Fact]
    public void LogitCwdWeight_ScalesTheTerm_AndZeroTurnsItOff()
    {
        using var scope = DisposeScope.Enter();
        var (s, t) = DenseSteps.CwdExample();
        using var half = MethodFactory.Create("mgd", new Dictionary<string, object>(Seg) { ["logit_cwd_weight"] = 1.5 }, Context([1, 2, 2, 2]));
        Assert.Equal(1.5 * DenseSteps.CwdExampleTau4, half.ComputeLoss(Step(s, t))["cwd_logits"].To(DType.Float64).Item<double>(), 1e-5);
        using var off = MethodFactory.Create("mgd", new Dictionary<string, object>(Seg) { ["logit_cwd_weight"] = 0.0 }, Context([1, 2, 2, 2]));
        Assert.Equal(["mgd"], off.ComputeLoss(Step(s, t)).Terms.Select(x => x.Name));
    }

    [Fact]
    public void OnClassLogits_ThereIsNoLogitTermByDefault()
    {
        using var scope = DisposeScope.Enter();
        using var mgd = MethodFactory.Create("mgd", Seg, Context([1, 10]));
        var inputs = new DistillationInputs(Tensor.Randn([1, 10]), Tensor.Randn([1, 10]), Tensor.Zeros([1], DType.Int64), Tensor.Zeros([1], DType.Int64),
            new Models.FeatureMaps(new Dictionary<string, Tensor> { ["stage4"] = Tensor.Randn([1, 3, 2, 2]) }, "student"),
            new Models.FeatureMaps(new Dictionary<string, Tensor> { ["stage4"] = Tensor.Randn([1, 3, 2, 2]) }, "teacher"), 1);
        Assert.Equal(["mgd"], mgd.ComputeLoss(inputs).Terms.Select(x => x.Name));
    }

    [Fact]
    public void AnExplicitLogitWeight_WithClassLogits_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => MethodFactory.Create("mgd", new Dictionary<string, object>(Seg) { ["logit_cwd_weight"] = 3.0 }, Context([4, 10])));
        Assert.Contains("logit_cwd_weight 3 needs logit maps [B, K, h, w] (segmentation); this student's logits are [B, K]", e.Message, StringComparison.Ordinal);
    }
}
