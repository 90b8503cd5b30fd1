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
        Assert.Contains("PyTorch gives", e.Message, StringComparison.Ordinal);
        Assert.Contains("allowed", e.Message, StringComparison.Ordinal);
        Assert.Contains("torch.testing's float32 default", e.Message, StringComparison.Ordinal);
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
    [InlineData(1.0, 1.0 + 2e-5, false)]
    [InlineData(0.0, 9e-6, true)]
    [InlineData(0.0, 2e-5, false)]
    [InlineData(100.0, 100.0 + 1.3e-4, true)]
    [InlineData(100.0, 100.0 + 2e-4, false)]
    [InlineData(double.NaN, double.NaN, true)]
    [InlineData(double.NaN, 0.0, false)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity, true)]
    [InlineData(double.PositiveInfinity, double.NegativeInfinity, false)]
    public void FloatTolerance_IsTorchsFloat32Default_TenMillionthsAbsolutePlus1Point3MillionthsRelative(double expected, double actual, bool close) =>
        Assert.Equal(close, GoldenTensor.Close(actual, expected, floating: true));

    [Fact]
    public void FixtureFolder_FollowsDistillFixtures_AndAMissingFixtureNamesTheFolderAndTheVariable()
    {
        Assert.True(File.Exists(FixtureFiles.PathOf("torch_ops.json")));
        var previous = Environment.GetEnvironmentVariable(FixtureFiles.Variable);
        var folder = Directory.CreateTempSubdirectory("distill-fixtures-").FullName;
        try
        {
            Environment.SetEnvironmentVariable(FixtureFiles.Variable, folder);
            Assert.Equal(folder, FixtureFiles.Directory);
            var e = Assert.Throws<FileNotFoundException>(() => FixtureFiles.PathOf("torch_ops.json"));
            Assert.Contains(Path.Combine(folder, "torch_ops.json"), e.Message, StringComparison.Ordinal);
            Assert.Contains(FixtureFiles.Variable, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FixtureFiles.Variable, previous);
            Directory.Delete(folder);
        }
    }

    [Fact]
    public void Float64Tolerance_IsTorchsFloat64Default()
    {
        Assert.True(GoldenTolerance.Float64.Accepts(1 + 1.9e-7, 1, 0));
        Assert.False(GoldenTolerance.Float64.Accepts(1 + 3e-7, 1, 0));
        Assert.Same(GoldenTolerance.Float64, GoldenTolerance.For(DType.Float64));
        Assert.Same(GoldenTolerance.Float32, GoldenTolerance.For(DType.Float32));
        Assert.Same(GoldenTolerance.Exact, GoldenTolerance.For(DType.Int64));
    }

    [Fact]
    public void ChainTolerance_GrowsWithDepthAndSqrtOfReductionLength_RelativeToTheTensorsRms()
    {
        var one = GoldenTolerance.Float32Chain([400], "one layer");
        var four = GoldenTolerance.Float32Chain([400, 400, 400, 400], "four layers");
        Assert.Equal(2 * 6 * 20 * GoldenTolerance.Float32UnitRoundoff, one.ScaleRtol, 15);
        Assert.Equal(4 * one.ScaleRtol, four.ScaleRtol, 15);
        // The same absolute error is accepted in a tensor of RMS 10 and rejected in one of RMS 0.1.
        var error = 2 * one.ScaleRtol;
        Assert.True(one.Accepts(error, 0, rms: 10));
        Assert.False(one.Accepts(error + one.Atol, 0, rms: 0.1));
    }

    [Fact]
    public void NetworkTolerance_CountsAReductionPerWeightLayer_NotBatchNormOrEmbeddings()
    {
        (string, long[])[] state =
        [
            ("pos_embed", [1, 65, 192]), ("conv.weight", [16, 3, 3, 3]), ("bn.weight", [16]), ("bn.bias", [16]), ("bn.running_mean", [16]),
            ("attn.in_proj_weight", [48, 16]), ("norm.weight", [16]), ("fc.weight", [10, 16]),
        ];
        var expected = GoldenTolerance.Float32Chain([27, 16, 16, 16, 16, 16], "expected");
        Assert.Equal(expected.ScaleRtol, GoldenTolerance.ForNetwork(state, "net").ScaleRtol, 15);
    }
}
