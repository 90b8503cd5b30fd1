using Distill.Testing;
using Distill.Torch.Tests.Golden;
using Xunit;
using Xunit.Sdk;

namespace Distill.Torch.Tests;

/// <summary>The goldens are really checked: every case runs, every op has a case, and a changed value fails.</summary>
public sealed class GoldenCoverageTests
{
    private static readonly IReadOnlyDictionary<string, GoldenOp>[] Tables =
    [
        FactoryGoldenTests.Ops, ShapeGoldenTests.Ops, MathGoldenTests.Ops, InPlaceGoldenTests.Ops,
        ReductionGoldenTests.Ops, FunctionalGoldenTests.Ops, LossGoldenTests.Ops, AutogradGoldenTests.Ops,
    ];

    [Fact]
    public void EveryGoldenCase_HasADistillImplementation_AndViceVersa()
    {
        var implemented = Tables.SelectMany(t => t.Keys).ToHashSet(StringComparer.Ordinal);
        var recorded = GoldenFixture.Cases.Keys.ToHashSet(StringComparer.Ordinal);
        Assert.Empty(recorded.Except(implemented));
        Assert.Empty(implemented.Except(recorded));
        Assert.True(recorded.Count > 100, $"only {recorded.Count} golden cases");
    }

    [Fact]
    public void ChangedGoldenOutput_MakesTheCheckFail()
    {
        var golden = GoldenFixture.Case("math.matmul_2d").Outputs["out0"];
        var values = (double[])golden.Values.Clone();
        values[3] *= 1 + 1e-4;
        var altered = new GoldenTensor(golden.DTypeName, golden.Shape, values);
        using var scope = DisposeScope.Enter();
        var actual = golden.ToTensor();
        golden.AssertMatches(actual, "unchanged");
        var e = Assert.Throws<XunitException>(() => altered.AssertMatches(actual, "altered"));
        Assert.Contains("element 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChangedGoldenGradient_MakesTheCaseFail()
    {
        var golden = GoldenFixture.Case("nn.linear");
        var grad = golden.Grads["w"];
        var values = (double[])grad.Values.Clone();
        values[0] += 1e-3;
        var altered = new GoldenTensor(grad.DTypeName, grad.Shape, values);
        using var scope = DisposeScope.Enter();
        var x = golden.Inputs["x"].ToTensor();
        var w = golden.Inputs["w"].ToTensor().RequireGrad();
        var b = golden.Inputs["b"].ToTensor();
        Functional.Linear(x, w, b).Backward(golden.GradOutputs["out0"].ToTensor());
        grad.AssertMatches(w.Grad!, "unchanged");
        Assert.Throws<XunitException>(() => altered.AssertMatches(w.Grad!, "altered"));
    }

    [Theory]
    [InlineData(1.0, 1.0 + 5e-6, true)]
    [InlineData(1.0, 1.0 + 5e-5, false)]
    [InlineData(0.0, 5e-7, true)]
    [InlineData(0.0, 5e-6, false)]
    [InlineData(double.NaN, double.NaN, true)]
    [InlineData(double.NaN, 0.0, false)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity, true)]
    [InlineData(double.PositiveInfinity, double.NegativeInfinity, false)]
    public void FloatTolerance_IsOneMillionthAbsolutePlusTenMillionthsRelative(double expected, double actual, bool close) =>
        Assert.Equal(close, GoldenTensor.Close(actual, expected, floating: true));
}
