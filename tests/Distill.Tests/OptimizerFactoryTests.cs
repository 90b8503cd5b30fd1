using Distill.Engine;
using Distill.NN;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>Parameter groups from the recipe: one group in the old order by default; decay exemptions and the method's rate otherwise.</summary>
public sealed class OptimizerFactoryTests
{
    [Fact]
    public void Groups_WithoutGroupKeys_AreOneGroupOfStudentThenMethodParameters()
    {
        using var scope = DisposeScope.Enter();
        using var student = new Sequential(new Linear(4, 6), new BatchNorm1d(6));
        using var method = new Linear(6, 2);
        var groups = OptimizerFactory.Groups(student, method, new TrainerOptions());
        var group = Assert.Single(groups);
        Assert.Equal(student.Parameters().Concat(method.Parameters()), group.Parameters, ReferenceEqualityComparer.Instance);
    }

    [Fact]
    public void Groups_NoDecayOnBnAndBias_AndAMethodMultiplier_SplitAsTimmDoes()
    {
        using var scope = DisposeScope.Enter();
        using var student = new Sequential(new Linear(4, 6), new BatchNorm1d(6));
        using var method = new Linear(6, 2);
        var options = new TrainerOptions { LearningRate = 0.1, WeightDecay = 1e-4, NoWeightDecayOn = ["bn", "bias"], MethodLrMult = 10, Optimizer = "adamw" };
        using var optimizer = OptimizerFactory.Create(OptimizerFactory.Groups(student, method, options), options);
        var named = student.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        var groups = optimizer.Groups;
        Assert.Equal(4, groups.Count);
        Assert.Equal([named["0.weight"]], groups[0].Parameters, ReferenceEqualityComparer.Instance);
        Assert.Equal([named["0.bias"], named["1.weight"], named["1.bias"]], groups[1].Parameters, ReferenceEqualityComparer.Instance);
        Assert.Equal([method.Weight], groups[2].Parameters, ReferenceEqualityComparer.Instance);
        Assert.Equal([(0.1, 1e-4), (0.1, 0.0), (1.0, 1e-4), (1.0, 0.0)], groups.Select(g => (Math.Round(g.LearningRate, 12), g.WeightDecay)));
    }
}
