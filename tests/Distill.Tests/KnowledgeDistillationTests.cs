using Distill.Methods;
using Distill.Tasks;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>KD against the hand-derived sanity values of ../shared/spec/methods.md §3.</summary>
public sealed class KnowledgeDistillationTests
{
    [Theory]
    [InlineData(4.0, 0.959472)]
    [InlineData(1.0, 0.846912)]
    public void KdLoss_EqualsTheSpecsSanityValue(double temperature, double expected)
    {
        using var scope = DisposeScope.Enter();
        var student = Tensor.From([1.0, 2.0, 0.5], 1, 3);
        var teacher = Tensor.From([3.0, 1.0, 0.0], 1, 3);
        Assert.Equal(expected, KnowledgeDistillation.KdLoss(student, teacher, temperature).Item<double>(), 6);
    }

    [Fact]
    public void CifarDefaults_GiveTheSpecsTotalAndTerms()
    {
        using var scope = DisposeScope.Enter();
        var kd = new KnowledgeDistillation();
        var terms = ClassificationTask.Default.StepLoss(kd, new DistillationInputs(Tensor.From([1.0, 2.0, 0.5], 1, 3), Tensor.From([3.0, 1.0, 0.0], 1, 3),
            Tensor.From([0L]), Tensor.From([0L]), null, null, 1));
        Assert.Equal(0.1 * 1.464369, terms["ce"].Item<double>(), 6);
        Assert.Equal(0.9 * 0.959472, terms["kd"].Item<double>(), 6);
        Assert.Equal(1.009962, terms.Total().Item<double>(), 6);
    }

    [Fact]
    public void KdGradient_FlowsToTheStudentOnly()
    {
        using var scope = DisposeScope.Enter();
        var student = Tensor.Randn([4, 5]).RequireGrad();
        var teacher = Tensor.Randn([4, 5]);
        KnowledgeDistillation.KdLoss(student, teacher, 4).Backward();
        Assert.NotNull(student.Grad);
        Assert.False(teacher.RequiresGrad);
    }

    [Fact]
    public void LossTerms_RejectDuplicatesAndNonScalars()
    {
        using var scope = DisposeScope.Enter();
        var terms = new LossTerms().Add("a", Tensor.Scalar(1f));
        Assert.Throws<ArgumentException>(() => terms.Add("a", Tensor.Scalar(2f)));
        Assert.Throws<ArgumentException>(() => terms.Add("b", Tensor.Zeros([2])));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KnowledgeDistillation(new() { Temperature = 0 }));
    }
}
