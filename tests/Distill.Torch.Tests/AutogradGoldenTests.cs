using Distill.Torch.Tests.Golden;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class AutogradGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["autograd.gradient_reversal"] = i => [Autograd.GradientReversal(i["x"], 0.7) * 3],
        ["autograd.grad_create_graph_penalty"] = i =>
        {
            var x = i["x"];
            var output = x.Matmul(i["w"]).Tanh().Sum();
            var g = Autograd.Grad([output], [x], createGraph: true)[0]!;
            return [(g.Norm(2, [1]) - 1).Pow(2L).Mean()];
        },
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("autograd.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void AutogradOp_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);

    [Fact]
    public void NoGrad_StopsRecording_AndRestoresPreviousMode()
    {
        using var scope = DisposeScope.Enter();
        var w = Tensor.Ones([2]).RequireGrad();
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsGradEnabled);
            Assert.False((w * 2).RequiresGrad);
            using (Autograd.EnableGrad())
            {
                Assert.True((w * 2).RequiresGrad);
            }

            Assert.False(Autograd.IsGradEnabled);
        }

        Assert.True(Autograd.IsGradEnabled);
        Assert.True((w * 2).RequiresGrad);
    }

    [Fact]
    public void InferenceMode_DisablesGrad_UntilDisposed()
    {
        using var scope = DisposeScope.Enter();
        var w = Tensor.Ones([2]).RequireGrad();
        using (Autograd.InferenceMode())
        {
            Assert.True(Autograd.IsInferenceMode);
            Assert.False((w * 2).RequiresGrad);
        }

        Assert.False(Autograd.IsInferenceMode);
    }

    [Fact]
    public void Backward_AccumulatesIntoGrad_RetainGraphAllowsSecondPass_AndGradCanBeCleared()
    {
        using var scope = DisposeScope.Enter();
        var w = Tensor.From([1f, 2f, 3f]).RequireGrad();
        var loss = (w * w).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal([4f, 8f, 12f], w.Grad!.ToArray<float>());
        w.Grad = null;
        Assert.Null(w.Grad);
        Assert.True(w.IsLeaf);
        Assert.False(loss.IsLeaf);
    }

    [Fact]
    public void Grad_WithAllowUnused_ReturnsNullForUnusedInput()
    {
        using var scope = DisposeScope.Enter();
        var a = Tensor.Ones([2]).RequireGrad();
        var b = Tensor.Ones([2]).RequireGrad();
        var grads = Autograd.Grad([(a * 3).Sum()], [a, b], allowUnused: true);
        Assert.Equal([3f, 3f], grads[0]!.ToArray<float>());
        Assert.Null(grads[1]);
    }
}
