using Distill.Models.Detection;
using Distill.Tasks.Detection;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>
/// The FCOS loss against eng/golden/fcos.py (written from the official loss.py, iou_loss.py and the CPU sigmoid focal
/// loss): the three terms, the positives count and the centerness normaliser, and the gradient of the total with
/// respect to the network's output, in float64, on a 48x48 batch; the hand-derived values.
/// </summary>
public sealed class FcosLossTests
{
    private static readonly System.Text.Json.JsonElement Section = FcosFixture.Section("losses");

    [Theory]
    [InlineData("giou", FcosIouLoss.Giou)]
    [InlineData("iou", FcosIouLoss.Iou)]
    [InlineData("linear_iou", FcosIouLoss.LinearIou)]
    [InlineData("no_positives", FcosIouLoss.Giou)]
    public void Compute_GivesTheReferenceTermsNormalisersAndGradient(string name, FcosIouLoss kind)
    {
        using var scope = DisposeScope.Enter();
        var c = Section.GetProperty("terms").GetProperty(name);
        var batch = FcosFixture.Boxes(Section.GetProperty("images"), 48, 48);
        var levels = FcosFixture.SceneLevels(48, 48);
        var output = Section.Tensor("output").RequireGrad();
        var options = new FcosLossOptions { IouLoss = kind };
        FcosLosses losses;
        if (name == "no_positives")
        {
            var assigned = FcosTargets.Assign(batch, levels);
            var labels = assigned.Labels.MaskedFill(assigned.Labels > 0.0, 0);
            losses = FcosLoss.Compute(output, assigned with { Labels = labels }, options);
        }
        else
        {
            losses = FcosLoss.Compute(output, batch, levels, options);
        }

        // Sums of about 2000 float64 terms: far inside float64's one-op tolerance.
        c.Golden("cls").AssertMatches(losses.Classification, $"{name} classification", GoldenTolerance.Float64);
        c.Golden("reg").AssertMatches(losses.Regression, $"{name} regression", GoldenTolerance.Float64);
        c.Golden("ctr").AssertMatches(losses.Centerness, $"{name} centerness", GoldenTolerance.Float64);
        Assert.Equal(c.GetProperty("positives").GetInt64(), losses.Positives);
        Assert.Equal(c.GetProperty("centerness_sum").GetDouble(), losses.CenternessTargetSum, 1e-9);
        if (c.TryGetProperty("grad", out _))
        {
            losses.Total.Backward();
            c.Golden("grad").AssertMatches(output.Grad!, $"{name} gradient", GoldenTolerance.Float64);
        }
    }

    [Fact]
    public void NoPositives_RegressionAndCenternessAreZero_AndStillInTheGraph()
    {
        using var scope = DisposeScope.Enter();
        var levels = FcosFixture.SceneLevels(48, 48);
        var output = Tensor.Randn([1, levels.Count, 8]).RequireGrad();
        var batch = new NN.Data.BoxBatch([Tensor.Zeros([0, 4])], [Tensor.Zeros([0], DType.Int64)], [Tensor.Zeros([0], DType.Bool)], [Tensor.Zeros([0])], [(48, 48)]);
        var losses = FcosLoss.Compute(output, batch, levels);
        Assert.Equal(0.0, losses.Regression.Item<float>());
        Assert.Equal(0.0, losses.Centerness.Item<float>());
        Assert.True(losses.Regression.RequiresGrad);
        (losses.Regression + losses.Centerness).Backward();
        Assert.Equal(0.0, output.Grad!.Abs().Sum().Item<float>());
    }

    [Fact]
    public void IouLossFamily_OfTheHandDerivedExample()
    {
        using var scope = DisposeScope.Enter();
        var predicted = Tensor.From(new double[] { 10, 10, 20, 10 }, 1, 4);
        var target = Tensor.From(new double[] { 8, 12, 24, 8 }, 1, 4);
        Assert.Equal(1 - 0.685210, FcosLoss.IouLoss(predicted, target, FcosIouLoss.LinearIou).Item<double>(), 6);
        Assert.Equal(0.378029, FcosLoss.IouLoss(predicted, target, FcosIouLoss.Iou).Item<double>(), 6);
        Assert.Equal(0.330832, FcosLoss.IouLoss(predicted, target, FcosIouLoss.Giou).Item<double>(), 6);
    }

    [Fact]
    public void FocalLoss_AtLogitZero_Is0_043322ForThePositive_And0_129965ForANegative()
    {
        using var scope = DisposeScope.Enter();
        var loss = FcosLoss.SigmoidFocalLoss(Tensor.Zeros([2, 1], DType.Float64), Tensor.From(new long[] { 1, 0 }, 2));
        var values = loss.Reshape(-1).ToArray<double>();
        Assert.Equal(0.043322, values[0], 6);
        Assert.Equal(0.129965, values[1], 6);
    }

    [Fact]
    public void FocalLoss_AnIgnoredLocation_ContributesNothing()
    {
        using var scope = DisposeScope.Enter();
        var loss = FcosLoss.SigmoidFocalLoss(Tensor.Randn([1, 3], DType.Float64), Tensor.From(new long[] { -1 }, 1));
        Assert.Equal(0.0, loss.Abs().Sum().Item<double>());
    }

    [Fact]
    public void ClassifierPriorBias_IsMinus4_595120()
    {
        Assert.Equal(-4.595120, FcosHead.PriorBias, 6);
        using var scope = DisposeScope.Enter();
        using var model = DetectionModels.Create("det_scene_student");
        Assert.All(model.StateDict()["head.cls_logits.bias"].ToArray<float>(), b => Assert.Equal(-4.595120, b, 5));
    }

    [Fact]
    public void Compute_AnOutputOfTheWrongShape_NamesBothShapes()
    {
        using var scope = DisposeScope.Enter();
        var levels = FcosFixture.SceneLevels(48, 48);
        var batch = FcosFixture.Boxes(Section.GetProperty("images"), 48, 48);
        var e = Assert.Throws<ArgumentException>(() => FcosLoss.Compute(Tensor.Zeros([2, 100, 8]), batch, levels));
        Assert.Contains($"[B, {levels.Count}, K + 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 100, 8]", e.Message, StringComparison.Ordinal);
    }
}
