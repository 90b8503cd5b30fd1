using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.Parity;
using Distill.Tasks;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>The feature methods against the hand-derived values of ../shared/spec/methods.md (§6, §9, §11, §12, §14.4, §16), in float64.</summary>
public sealed class FeatureMethodSanityTests
{
    [Fact]
    public void AttentionTransfer_GivesTheSpecsExample()
    {
        using var scope = DisposeScope.Enter();
        var student = Tensor.From([1.0, 2.0, 1.0, 0.0], 1, 2, 1, 2);
        var teacher = Tensor.From([1.0, 1.0, 1.0, 1.0], 1, 2, 1, 2);
        Near([0.447214, 0.894427], AttentionTransfer.AttentionMap(student, 2).ToArray<double>());
        Near([0.707107, 0.707107], AttentionTransfer.AttentionMap(teacher, 2).ToArray<double>());
        Near(51.3167, AttentionTransfer.StageLoss(student, teacher, 2).Item<double>() * 1000, 1e-4);
    }

    [Theory]
    [InlineData(4, 1.444643)]
    [InlineData(1, 1.226658)]
    public void ChannelWiseDistillation_GivesTheSpecsExample(double tau, double expected)
    {
        using var scope = DisposeScope.Enter();
        var student = Tensor.From([0.0, 1, 2, 3, 1, 1, 1, 1], 1, 2, 2, 2);
        var teacher = Tensor.From([3.0, 2, 1, 0, 0, 0, 0, 2], 1, 2, 2, 2);
        Near(expected, ChannelWiseDistillation.Loss(student, teacher, tau).Item<double>());
    }

    [Fact]
    public void TfdIntra_GivesTheSpecsExample_Six()
    {
        using var scope = DisposeScope.Enter();
        var f = Tensor.From([3.0, 4, 1, 0, 1, 3, 1, 1], 1, 4, 1, 2);
        Near(6, TeacherFreeFeatureDistillation.Intra(f).Item<double>());
    }

    [Fact]
    public void TfdInter_GivesTheSpecsExample_AndDetachesTheDeeperMap()
    {
        using var scope = DisposeScope.Enter();
        var shallow = Tensor.From([1.0, 2, 3, 4, 0, 0, 0, 4], 1, 2, 2, 2).RequireGrad();
        var deep = Tensor.From([2.0, 2, 9], 1, 3, 1, 1).RequireGrad();
        var loss = TeacherFreeFeatureDistillation.Inter(shallow, deep);
        Near(0.625, loss.Item<double>());
        loss.Backward();
        Assert.NotNull(shallow.Grad);
        Assert.Null(deep.Grad);
    }

    [Fact]
    public void TfdWithoutTeacher_DoesNotNeedOne_AndTfdPlusDoes()
    {
        using var tfd = new TeacherFreeFeatureDistillation(new TeacherFreeFeatureDistillation.Options { Stages = ["stage1"] });
        using var plus = new TeacherFreeFeatureDistillation(new TeacherFreeFeatureDistillation.PlusOptions { Stages = ["stage1"] });
        Assert.False(tfd.NeedsTeacher);
        Assert.True(plus.NeedsTeacher);
        Assert.Equal("tfd+", plus.Name);
    }

    [Theory]
    [InlineData(1, 0, -0.797885)]
    [InlineData(2, 1, -1.282156)]
    [InlineData(1, -1, -1.287600)]
    [InlineData(1, 4, -3)]
    public void OfdMargin_GivesTheSpecsValues(double gamma, double beta, double expected) =>
        Near(expected, OverhaulFeatureDistillation.Margins([gamma], [beta])[0]);

    [Fact]
    public void PartialL2_GivesTheSpecsExamples()
    {
        using var scope = DisposeScope.Enter();
        var margin = Tensor.From([-0.8], 1);
        Near(0, OverhaulFeatureDistillation.PartialL2(Tensor.From([-1.0], 1), Tensor.From([-2.0], 1), margin).Item<double>());
        Near(0.64, OverhaulFeatureDistillation.PartialL2(Tensor.From([0.0], 1), Tensor.From([-2.0], 1), margin).Item<double>());
        Near(0.04, OverhaulFeatureDistillation.PartialL2(Tensor.From([0.3], 1), Tensor.From([0.5], 1), margin).Item<double>());
    }

    [Fact]
    public void SddWeights_GiveTheSpecsExample_PointFour()
    {
        // B = 1, N = 5: teacher right globally and in regions 1-2, wrong in 3-4 -> w = [1, 1, 1, 2, 2].
        using var scope = DisposeScope.Enter();
        var teacherRows = Tensor.From([5.0, 0, 5, 0, 5, 0, 0, 5, 0, 5], 5, 2);
        var weights = ScaleDecoupledDistillation.RowWeights(teacherRows, Tensor.From([0L]), 5, 2);
        Near([1, 1, 1, 2, 2], weights.ToArray<double>());
        var rows = Tensor.From([0.5, 0.2, 0.3, 0.4, 0.1]);
        Near(0.4, ((rows * weights).Sum() / 5).Item<double>());
    }

    [Fact]
    public void SddWithOneScale_IsKd()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(3);
        var (b, c, k) = (4L, 6L, 5L);
        var feature = Tensor.Randn([b, c, 4, 4], DType.Float64);
        var teacherFeature = Tensor.Randn([b, c, 4, 4], DType.Float64);
        var (w, bias) = (Tensor.Randn([k, c], DType.Float64), Tensor.Randn([k], DType.Float64));
        var (tw, tb) = (Tensor.Randn([k, c], DType.Float64), Tensor.Randn([k], DType.Float64));
        var logits = Torch.Functional.Linear(feature.Mean([2, 3]), w, bias);
        var teacherLogits = Torch.Functional.Linear(teacherFeature.Mean([2, 3]), tw, tb);
        var labels = Tensor.From([0L, 1, 2, 3]);
        using var sdd = new ScaleDecoupledDistillation(new() { Tap = "stage3", Scales = [1] });
        var maps = new FeatureMaps(new Dictionary<string, Tensor> { ["stage3"] = feature }, "student");
        var teacherMaps = new FeatureMaps(new Dictionary<string, Tensor> { ["stage3"] = teacherFeature }, "teacher");
        var terms = ClassificationTask.Default.StepLoss(sdd, new DistillationInputs(logits, teacherLogits, labels, labels, maps, teacherMaps, 1)
        {
            StudentHead = x => Torch.Functional.Linear(x, w, bias),
            TeacherHead = x => Torch.Functional.Linear(x, tw, tb),
        });
        Near(0.9 * KnowledgeDistillation.KdLoss(logits, teacherLogits, 4).Item<double>(), terms["sdd"].Item<double>());
    }

    [Fact]
    public void SddPyramid_OrdersRegionsOneTwoFour_AndReplicatesSmallMaps()
    {
        using var scope = DisposeScope.Enter();
        var f = Tensor.From([1.0, 2, 3, 4], 1, 1, 2, 2);
        var regions = ScaleDecoupledDistillation.Pyramid(f, [1, 2, 4]).ToArray<double>();
        Assert.Equal(21, regions.Length);
        Near([2.5, 1, 2, 3, 4, 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], regions);
    }

    [Theory]
    [InlineData(1, 1.371179)]
    [InlineData(1.5, 2.236692)]
    public void OfaLoss_GivesTheSpecsExample(double eps, double expected)
    {
        using var scope = DisposeScope.Enter();
        Near(expected, OneForAllDistillation.OfaLoss(Tensor.From([1.0, 2.0, 0.5], 1, 3), Tensor.From([3.0, 1.0, 0.0], 1, 3), Tensor.From([0L]), eps).Item<double>());
    }

    private static void Near(double expected, double actual, double tolerance = 1e-6) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected}, got {actual}");

    private static void Near(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Near(expected[i], actual[i]);
        }
    }

    [Fact]
    public void FitNetWithSeveralTaps_SumsOneHintPerTap_AndIndexesItsRegressorsOnlyThen()
    {
        using var scope = DisposeScope.Enter();
        var context = new MethodContext(
            new Dictionary<string, long[]> { ["stage1"] = [2, 4, 8, 8], ["stage2"] = [2, 8, 4, 4] },
            new Dictionary<string, long[]> { ["stage1"] = [2, 6, 8, 8], ["stage2"] = [2, 12, 4, 4] });

        // The same seed draws the two-tap regressors in the order the two single-tap methods draw theirs.
        TorchRuntime.ManualSeed(5);
        using var both = new FitNet(new() { Taps = ["stage1", "stage2"] }, context);
        TorchRuntime.ManualSeed(5);
        using var first = new FitNet(new() { Tap = "stage1" }, context);
        using var second = new FitNet(new() { Tap = "stage2" }, context);

        Assert.Equal(["stage1", "stage2"], both.StudentTaps);
        Assert.Equal(["stage1", "stage2"], both.TeacherTaps);
        var names = both.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Contains("regressors.0.0.weight", names);
        Assert.Contains("regressors.1.0.weight", names);
        Assert.Equal("regressor.0.weight", first.NamedParameters().First().Name);

        var student = new Dictionary<string, Tensor> { ["stage1"] = Tensor.Randn([2, 4, 8, 8]), ["stage2"] = Tensor.Randn([2, 8, 4, 4]) };
        var teacher = new Dictionary<string, Tensor> { ["stage1"] = Tensor.Randn([2, 6, 8, 8]), ["stage2"] = Tensor.Randn([2, 12, 4, 4]) };
        DistillationInputs Inputs() => new(Tensor.Randn([2, 3]), Tensor.Randn([2, 3]), Tensor.From([0L, 1L]), Tensor.From([0L, 1L]),
            new FeatureMaps(student, "student"), new FeatureMaps(teacher, "teacher"), 1);
        var sum = both.ComputeLoss(Inputs())["hint"].Item<float>();
        var parts = first.ComputeLoss(Inputs())["hint"].Item<float>() + second.ComputeLoss(Inputs())["hint"].Item<float>();
        Assert.Equal(parts, sum, parts * 1e-5f);
    }

    [Fact]
    public void CwdWithSeveralPairs_IsTheSumOfTheSinglePairTerms_WithTheSameAlignConvs_IndexedOnlyThen()
    {
        using var scope = DisposeScope.Enter();
        var context = PairContext();
        using var first = new ChannelWiseDistillation(new() { StudentTap = "stage1", TeacherTap = "stage1", Tau = 2 }, context);
        using var second = new ChannelWiseDistillation(new() { StudentTap = "stage2", TeacherTap = "stage2", Tau = 2 }, context);
        using var both = new ChannelWiseDistillation(new() { StudentTaps = ["stage1", "stage2"], TeacherTaps = ["stage1", "stage2"], Tau = 2 }, context);

        // Pair 0 differs in channels (an align conv), pair 1 does not (none, so no aligns.1).
        Assert.Equal(["align.weight", "align.bias"], first.StateDict().Keys);
        Assert.Empty(second.StateDict());
        Assert.Equal(["aligns.0.weight", "aligns.0.bias"], both.StateDict().Keys);
        both.LoadStateDict(Indexed(first, 0).Concat(Indexed(second, 1)).ToDictionary());
        Assert.Equal(["stage1", "stage2"], both.StudentTaps);
        Assert.Equal(["stage1", "stage2"], both.TeacherTaps);

        var inputs = PairInputs();
        var sum = both.ComputeLoss(inputs)["cwd"].Item<float>();
        var parts = first.ComputeLoss(inputs)["cwd"].Item<float>() + second.ComputeLoss(inputs)["cwd"].Item<float>();
        Assert.Equal(parts, sum, parts * 1e-5f);
    }

    [Fact]
    public void MgdWithSeveralPairs_IsTheSumOfTheSinglePairTerms_WithTheSamePartsAndMasks_UnderIndexedNames()
    {
        using var scope = DisposeScope.Enter();
        var context = PairContext();
        using var first = new MaskedGenerativeDistillation(new() { StudentTap = "stage1", TeacherTap = "stage1" }, context);
        using var second = new MaskedGenerativeDistillation(new() { StudentTap = "stage2", TeacherTap = "stage2" }, context);
        using var both = new MaskedGenerativeDistillation(new() { StudentTaps = ["stage1", "stage2"], TeacherTaps = ["stage1", "stage2"] }, context);

        Assert.Equal(["mask [B, C_t, 1, 1] (1 keeps, 0 drops)"], first.RandomDraws);
        Assert.Equal(["mask.0 [B, C_t, 1, 1] (1 keeps, 0 drops)", "mask.1 [B, C_t, 1, 1] (1 keeps, 0 drops)"], both.RandomDraws);
        Assert.Equal(["align.weight", "align.bias", "generation.0.weight", "generation.0.bias", "generation.2.weight", "generation.2.bias"], first.StateDict().Keys);
        Assert.Equal(["aligns.0.weight", "aligns.0.bias", "generations.0.0.weight", "generations.0.0.bias", "generations.0.2.weight", "generations.0.2.bias",
            "generations.1.0.weight", "generations.1.0.bias", "generations.1.2.weight", "generations.1.2.bias"], both.StateDict().Keys);
        both.LoadStateDict(Indexed(first, 0).Concat(Indexed(second, 1)).ToDictionary());

        // Masks with some channels dropped, the same for the pair alone and within both.
        var mask0 = (Tensor.Rand([2, 6, 1, 1]) > 0.3).To(DType.Float32);
        var mask1 = (Tensor.Rand([2, 8, 1, 1]) > 0.3).To(DType.Float32);
        first.OverrideRandomDraws(new Dictionary<string, Tensor> { ["mask"] = mask0 });
        second.OverrideRandomDraws(new Dictionary<string, Tensor> { ["mask"] = mask1 });
        both.OverrideRandomDraws(new Dictionary<string, Tensor> { ["mask.0"] = mask0, ["mask.1"] = mask1 });

        var inputs = PairInputs();
        var sum = both.ComputeLoss(inputs)["mgd"].Item<float>();
        var parts = first.ComputeLoss(inputs)["mgd"].Item<float>() + second.ComputeLoss(inputs)["mgd"].Item<float>();
        Assert.Equal(parts, sum, parts * 1e-5f);
    }

    [Theory]
    [InlineData("cwd")]
    [InlineData("mgd")]
    public void TapPairLists_OfDifferentLengths_FailNamingBothCounts(string method)
    {
        var options = MethodCheck.Options(method, ["student_taps=[stage1,stage2]", "teacher_taps=[stage2]"]);
        var e = Assert.Throws<ConfigException>(() => MethodBuilder.Create(options, PairContext()));
        Assert.Contains($"{method}: student_taps names 2 taps and teacher_taps 1", e.Message, StringComparison.Ordinal);
    }

    // Student stage1 has 4 channels against the teacher's 6 (aligned), stage2 8 against 8 (not).
    private static MethodContext PairContext() => new(
        new Dictionary<string, long[]> { ["stage1"] = [2, 4, 8, 8], ["stage2"] = [2, 8, 4, 4] },
        new Dictionary<string, long[]> { ["stage1"] = [2, 6, 8, 8], ["stage2"] = [2, 8, 4, 4] });

    private static DistillationInputs PairInputs()
    {
        var student = new Dictionary<string, Tensor> { ["stage1"] = Tensor.Randn([2, 4, 8, 8]), ["stage2"] = Tensor.Randn([2, 8, 4, 4]) };
        var teacher = new Dictionary<string, Tensor> { ["stage1"] = Tensor.Randn([2, 6, 8, 8]), ["stage2"] = Tensor.Randn([2, 8, 4, 4]) };
        return new(Tensor.Randn([2, 3]), Tensor.Randn([2, 3]), Tensor.From([0L, 1L]), Tensor.From([0L, 1L]),
            new FeatureMaps(student, "student"), new FeatureMaps(teacher, "teacher"), 1);
    }

    // A single-pair method's state under the indexed names of pair i ("align.weight" -> "aligns.i.weight").
    private static IEnumerable<KeyValuePair<string, Tensor>> Indexed(Distiller single, int i) =>
        single.StateDict().Select(kv => KeyValuePair.Create(kv.Key.Split('.')[0] + "s." + i + kv.Key[kv.Key.IndexOf('.', StringComparison.Ordinal)..], kv.Value));
}
