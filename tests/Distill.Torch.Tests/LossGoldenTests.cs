using Distill.Torch.Tests.Golden;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Torch.Tests;

public sealed class LossGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["loss.cross_entropy"] = i => [F.CrossEntropy(i["x"], i["buf_t"])],
        ["loss.cross_entropy_weight_ignore"] = i => [F.CrossEntropy(i["x"], i["buf_t"], i["buf_w"], ignoreIndex: 2)],
        ["loss.cross_entropy_smoothing_sum"] = i => [F.CrossEntropy(i["x"], i["buf_t"], reduction: Reduction.Sum, labelSmoothing: 0.1)],
        ["loss.cross_entropy_soft_targets"] = i => [F.CrossEntropy(i["x"], i["buf_p"])],
        ["loss.cross_entropy_none_2d"] = i => [F.CrossEntropy(i["x"], i["buf_t"], reduction: Reduction.None)],
        ["loss.nll"] = i => [F.NllLoss(F.LogSoftmax(i["x"], 1), i["buf_t"])],
        ["loss.kl_div_batchmean"] = i =>
            [F.KlDiv(F.LogSoftmax(i["s"] / 4, 1), F.Softmax(i["t"] / 4, 1), Reduction.BatchMean) * 16],
        ["loss.kl_div_log_target_sum"] = i =>
            [F.KlDiv(F.LogSoftmax(i["s"], 1), F.LogSoftmax(i["t"], 1), Reduction.Sum, logTarget: true)],
        ["loss.kl_div_none"] = i => [F.KlDiv(F.LogSoftmax(i["s"], 1), i["buf_t"], Reduction.None)],
        ["loss.mse"] = i => [F.MseLoss(i["a"], i["b"])],
        ["loss.l1_sum"] = i => [F.L1Loss(i["a"], i["b"], Reduction.Sum)],
        ["loss.smooth_l1_beta"] = i => [F.SmoothL1Loss(i["a"], i["b"], beta: 0.5)],
        ["loss.bce_with_logits_pos_weight"] = i => [F.BinaryCrossEntropyWithLogits(i["x"], i["buf_t"], positiveWeight: i["buf_pw"])],
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("loss.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);

    [Fact]
    public void BatchMean_IsRejected_ForLossesOtherThanKlDiv()
    {
        using var scope = DisposeScope.Enter();
        var x = Tensor.Zeros([2, 3]);
        var e = Assert.Throws<ArgumentException>(() => F.MseLoss(x, x, Reduction.BatchMean));
        Assert.Contains("batchmean", e.Message, StringComparison.Ordinal);
    }
}
