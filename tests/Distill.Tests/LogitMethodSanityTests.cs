using Distill.Methods;
using Distill.Tasks;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>Logit standardisation and DKD against the hand-derived values of ../shared/spec/methods.md §4, §14.1 and §16.</summary>
public sealed class LogitMethodSanityTests
{
    private static Tensor Student => Tensor.From([1.0, 2.0, 0.5], 1, 3);

    private static Tensor Teacher => Tensor.From([3.0, 1.0, 0.0], 1, 3);

    private static Tensor Label => Tensor.From([0L]);

    [Fact]
    public void Standardize_GivesTheSpecsZScores()
    {
        using var scope = DisposeScope.Enter();
        AssertClose([-0.218218, 1.091089, -0.872872], LogitStandardization.Standardize(Student).ToArray<double>());
        AssertClose([1.091089, -0.218218, -0.872872], LogitStandardization.Standardize(Teacher).ToArray<double>());
    }

    [Fact]
    public void KdWithLogitStandardization_GivesTheSpecsTermsAndTotal()
    {
        using var scope = DisposeScope.Enter();
        var ls = KnowledgeDistillation.WithLogitStandardization();
        var terms = ClassificationTask.Default.StepLoss(ls, new DistillationInputs(Student, Teacher, Label, Label, null, null, 1));
        Near(5.976865, terms["kd"].Item<double>());
        Near(0.1 * 1.464369, terms["ce"].Item<double>());
        Near(6.123302, terms.Total().Item<double>());
    }

    [Fact]
    public void ConstantLogits_StandardizeToZeros_WithoutNaN()
    {
        using var scope = DisposeScope.Enter();
        Assert.All(LogitStandardization.Standardize(Tensor.Full([2, 4], 3.0, DType.Float64)).ToArray<double>(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Dkd_TermsAndTotal_EqualTheSpec_AndDecomposeKd()
    {
        using var scope = DisposeScope.Enter();
        var (tckd, nckd) = DecoupledKnowledgeDistillation.Terms(Student, Teacher, Label, 4);
        Near(0.943598, tckd.Item<double>());
        Near(0.030589, nckd.Item<double>());
        var dkd = new DecoupledKnowledgeDistillation(new() { Warmup = 20 });
        var atTwenty = ClassificationTask.Default.StepLoss(dkd, new DistillationInputs(Student, Teacher, Label, Label, null, null, 20));
        Near(1.188306, atTwenty["dkd"].Item<double>());
        var atOne = ClassificationTask.Default.StepLoss(dkd, new DistillationInputs(Student, Teacher, Label, Label, null, null, 1));
        Near(1.188306 / 20, atOne["dkd"].Item<double>());
        var pt = Functional.Softmax(Teacher / 4.0, 1).ToArray<double>()[0];
        Near(0.959472, tckd.Item<double>() + ((1 - pt) * nckd.Item<double>()));
    }

    [Fact]
    public void Dkd_ConfidentStudent_StaysFinite()
    {
        using var scope = DisposeScope.Enter();
        var student = Tensor.From([200f, -200f, -200f], 1, 3).RequireGrad();
        var (tckd, nckd) = DecoupledKnowledgeDistillation.Terms(student, Tensor.From([0f, 1f, 2f], 1, 3), Tensor.From([1L]), 1);
        (tckd + nckd).Backward();
        Assert.True(float.IsFinite(tckd.Item<float>()) && float.IsFinite(nckd.Item<float>()));
        Assert.All(student.Grad!.ToArray<float>(), g => Assert.True(float.IsFinite(g)));
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Near(expected[i], actual[i]);
        }
    }

    // The spec's values are given to 6 decimals: agree within 1e-6.
    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6, $"{actual:R} differs from the spec's {expected:R} by more than 1e-6");
}
