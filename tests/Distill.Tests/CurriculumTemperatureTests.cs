using Distill.Methods;
using Distill.Tasks;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>CTKD's global temperature against ../shared/spec/methods.md §5 and §16.</summary>
public sealed class CurriculumTemperatureTests
{
    [Fact]
    public void InitialTemperature_AndItsDerivative_EqualTheSpec()
    {
        using var scope = DisposeScope.Enter();
        using var ctkd = new CurriculumTemperatureDistillation();
        ctkd.OnEpochStart(10, 240);
        var t = ctkd.Temperature();
        Assert.True(Math.Abs(t.Item<float>() - 15.621172) < 1e-5, $"T = {t.Item<float>()}");
        t.Backward();

        // λ = −1 at epoch 10: the reversal hands θ −dT/dθ.
        Assert.True(Math.Abs(ctkd.Theta.Grad!.Item<float>() + 3.932239) < 1e-5, $"grad {ctkd.Theta.Grad!.Item<float>()}");
    }

    [Theory]
    [InlineData(1, -0.024472)]
    [InlineData(2, -0.095492)]
    [InlineData(5, -0.5)]
    [InlineData(10, -1.0)]
    [InlineData(40, -1.0)]
    public void Lambda_FollowsTheCosineCurriculum(int epoch, double expected)
    {
        using var ctkd = new CurriculumTemperatureDistillation();
        Assert.True(Math.Abs(ctkd.LambdaAt(epoch) - expected) < 1e-6, $"λ({epoch}) = {ctkd.LambdaAt(epoch)}");
    }

    [Fact]
    public void Loss_EqualsKdAtTheLearnedTemperature_AndThetaAscendsIt()
    {
        using var scope = DisposeScope.Enter();
        using var ctkd = new CurriculumTemperatureDistillation();
        ctkd.OnEpochStart(5, 240);
        var student = Tensor.From([1.0f, 2.0f, 0.5f], 1, 3).RequireGrad();
        var teacher = Tensor.From([3.0f, 1.0f, 0.0f], 1, 3);
        var terms = ClassificationTask.Default.StepLoss(ctkd, new DistillationInputs(student, teacher, Tensor.From([0L]), Tensor.From([0L]), null, null, 5));
        var t = ctkd.Temperature().Item<float>();
        Assert.True(Math.Abs(terms["kd"].Item<float>() - (0.9 * KnowledgeDistillation.KdLoss(student, teacher, t).Item<float>())) < 1e-5);
        Assert.Single(ctkd.Parameters());

        // Without the reversal, dL/dθ at θ = 1; through it, θ receives λ times that (λ = −0.5 at epoch 5).
        var free = Tensor.Ones([]).RequireGrad();
        var temperature = (free.Sigmoid() * 20.0) + 1.0;
        var logStudent = Functional.LogSoftmax(student / temperature, 1);
        var kd = Functional.KlDiv(logStudent, Functional.Softmax(teacher / temperature, 1), Reduction.BatchMean) * temperature.Square() * 0.9;
        var plain = Autograd.Grad([kd], [free])[0]!.Item<float>();
        terms.Total().Backward();
        Assert.True(Math.Abs(ctkd.Theta.Grad!.Item<float>() - (-0.5 * plain)) < 1e-6, $"θ grad {ctkd.Theta.Grad!.Item<float>()}, expected {-0.5 * plain}");
        Assert.NotEqual(0f, plain);
    }
}
