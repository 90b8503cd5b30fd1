using Distill.Tasks.Detection;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>
/// FCOS locations and target assignment against eng/golden/fcos.py (written from the official loss.py: centre
/// sampling with the region clipped to the box, inclusive scale ranges, smallest (w+1)(h+1) area wins, targets over
/// the stride) plus our crowd rule, on a 96x96 batch of three images (objects and a crowd box; a crowd box inside a
/// large object; no object).
/// </summary>
public sealed class FcosTargetsTests
{
    private static readonly System.Text.Json.JsonElement Section = FcosFixture.Section("targets");

    [Fact]
    public void Locations_AreTheStrideGridPlusHalfAStride_LevelByLevel_RowMajor()
    {
        using var scope = DisposeScope.Enter();
        var levels = FcosFixture.SceneLevels(96, 96);
        Assert.Equal([(24, 24), (12, 12), (6, 6)], levels.Sizes);
        Section.Golden("locations").AssertMatches(levels.Locations(), "locations", GoldenTolerance.Exact);
    }

    [Fact]
    public void LevelSizes_OfANonSquareInput_HalveWithCeiling()
    {
        var levels = FcosFixture.SceneLevels(60, 90);
        var expected = Section.GetProperty("sizes_60x90").EnumerateArray().Select(s => (s[0].GetInt32(), s[1].GetInt32()));
        Assert.Equal(expected, levels.Sizes);
    }

    [Theory]
    [InlineData("radius_1_5")]
    [InlineData("radius_0")]
    public void Assign_GivesTheReferenceLabelsAndRegressionTargets(string name)
    {
        using var scope = DisposeScope.Enter();
        var c = Section.GetProperty("cases").GetProperty(name);
        var batch = FcosFixture.Boxes(Section.GetProperty("images"), 96, 96);
        var assigned = FcosTargets.Assign(batch, FcosFixture.SceneLevels(96, 96), c.GetProperty("radius").GetDouble());
        c.Golden("labels").AssertMatches(assigned.Labels, $"{name} labels", GoldenTolerance.Exact);
        var positive = assigned.Labels > 0.0;
        var expected = c.Tensor("regression");
        var mask = positive.Unsqueeze(2).Expand(assigned.Regression.Shape);
        var values = expected.MaskedSelect(mask).To(DType.Float64).ToArray<double>();
        Assert.NotEmpty(values);
        var golden = new GoldenTensor("float32", [values.Length], values);
        golden.AssertMatches(assigned.Regression.MaskedSelect(mask), $"{name} regression targets of the positives", GoldenTolerance.Float32);
    }

    [Fact]
    public void Assign_LocationsInsideACrowdBox_AreIgnored_NotNegative_AndCrowdMakesNoPositive()
    {
        using var scope = DisposeScope.Enter();
        var batch = FcosFixture.Boxes(Section.GetProperty("images"), 96, 96);
        var labels = FcosTargets.Assign(batch, FcosFixture.SceneLevels(96, 96)).Labels;
        Assert.True((labels.Select(0, 0).Eq(-1).Sum().Item<long>()) > 0);
        Assert.Equal(0L, labels.Select(0, 2).Ne(0).Sum().Item<long>());
    }

    [Fact]
    public void Centerness_OfTheHandDerivedExample_Is0_471405()
    {
        using var scope = DisposeScope.Enter();
        var c = FcosTargets.Centerness(Tensor.From(new double[] { 8, 12, 24, 8 }, 1, 4)).Item<double>();
        Assert.Equal(0.471405, c, 6);
    }
}
