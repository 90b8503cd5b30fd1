using System.Text.Json;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Parity;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>
/// The goldens of eng/golden/detection_methods.py (fgd on FPN levels with boxes, crowd boxes and un-padded image sizes,
/// with an align conv and an image without boxes; mgd, cwd and skd_det on FPN levels; each after the detection task's
/// focal, box and centerness terms over the det_scene levels) through the parity harness on detection steps, the
/// harness's checks of box inputs, and FGD's hand-derived mask and attention values.
/// </summary>
public sealed class DetectionMethodCheckTests : IDisposable
{
    private static readonly JsonFixture Fixture = new("detection_methods.json");
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-det-").FullName;

    public static TheoryData<string> Cases => Fixture.Names();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Check_OnADetectionStep_MatchesTheOfficialCodesReference(string name)
    {
        var golden = Fixture.Root.GetProperty(name);
        var inputs = WriteInputs(golden, name);
        var output = Path.Combine(_directory, name + ".out.safetensors");
        var method = MethodCheck.Options(golden.GetProperty("method").GetString()!, golden.GetProperty("options").EnumerateArray().Select(o => o.GetString()!));
        MethodCheck.Run(method, inputs, output, golden.GetProperty("epoch").GetInt32());
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);
        var expected = golden.GetProperty("expected").EnumerateObject().ToDictionary(p => p.Name, p => GoldenTensor.Parse(p.Value));
        Assert.Equal(expected.Keys.Order(), file.Tensors.Keys.Where(k => !k.StartsWith("random.", StringComparison.Ordinal)).Order());

        // Float32 against the float64 reference: the longest reductions are the summed squares over one level's
        // 2 x 8 x 8 x 8 = 1,024 elements and the softmaxes over 64 cells: lambda u sqrt(n) = 6 * 2^-24 * 32 = 1.1e-5 of
        // the largest magnitude, so 2e-5 as for the dense goldens. The masks are exact (the same float32 arithmetic).
        foreach (var (key, value) in expected)
        {
            value.AssertMatchesToScale(file.Tensors[key], $"{name} {key}", rtol: 2e-5);
        }
    }

    [Fact]
    public void FgdMasks_OfTheHandDerivedExample_Are12ForegroundCellsOfOneTwelfthAnd4BackgroundCellsOfOneQuarter()
    {
        // A 4 x 4 level of a 64 x 64 image, one box (8, 8, 40, 24): scaled (0.5, 0.5, 2.5, 1.5), columns 0..3, rows 0..2.
        using var scope = DisposeScope.Enter();
        var (fg, bg) = FocalGlobalDistillation.Masks(Boxes([[8, 8, 40, 24]], [false], (64, 64)), 4, 4);
        var f = fg.ToArray<float>();
        var b = bg.ToArray<float>();
        Assert.All(f.Take(12), v => Assert.Equal(1f / 12, v));
        Assert.All(f.Skip(12), v => Assert.Equal(0f, v));
        Assert.All(b.Take(12), v => Assert.Equal(0f, v));
        Assert.All(b.Skip(12), v => Assert.Equal(0.25f, v));
    }

    [Fact]
    public void FgdMasks_SkipCrowdBoxes_AndAnImageWithoutBoxesIsAllBackground()
    {
        // The official code reads gt_bboxes, which hold no crowd boxes: a crowd box leaves the mask empty.
        using var scope = DisposeScope.Enter();
        var (fg, bg) = FocalGlobalDistillation.Masks(Boxes([[8, 8, 40, 24]], [true], (64, 64)), 4, 4);
        Assert.All(fg.ToArray<float>(), v => Assert.Equal(0f, v));
        Assert.All(bg.ToArray<float>(), v => Assert.Equal(1f / 16, v));
    }

    [Fact]
    public void FgdMasks_OverlappingBoxes_KeepTheSmallerBoxsLargerWeight()
    {
        using var scope = DisposeScope.Enter();
        var (fg, _) = FocalGlobalDistillation.Masks(Boxes([[0, 0, 64, 64], [16, 16, 20, 20]], [false, false], (64, 64)), 4, 4);
        var f = fg.ToArray<float>();

        // The big box covers rows and columns 0..4 clipped to the 4 x 4 grid: 1 / 25; the small one cells 1..2: 1 / 4.
        Assert.Equal(1.0 / 25, f[0], 1e-7);
        Assert.Equal(0.25f, f[(1 * 4) + 1]);
        Assert.Equal(0.25f, f[(2 * 4) + 2]);
        Assert.Equal(1.0 / 25, f[(3 * 4) + 3], 1e-7);
    }

    [Fact]
    public void FgdAttention_OfTheHandDerivedExample_IsAsMethodsSection16Says()
    {
        // C = 2, H x W = 1 x 2, channels [1, 3] and [1, 1], T 0.5.
        using var scope = DisposeScope.Enter();
        var (spatial, channel) = FocalGlobalDistillation.Attention(Tensor.From(new float[] { 1, 3, 1, 1 }, 1, 2, 1, 2), 0.5);
        Assert.Equal([0.238406, 1.761594], spatial.ToArray<float>().Select(v => Math.Round(v, 6)));
        Assert.Equal([1.761594, 0.238406], channel.ToArray<float>().Select(v => Math.Round(v, 6)));
    }

    [Fact]
    public void Fgd_OnTheDefaults_UsesEveryFpnLevelOfTheStudent_AndZeroInitialisesTheLastGcBlockConvs()
    {
        var context = Context(("fpn.p4", [2, 8, 2, 2]), ("fpn.p2", [2, 8, 8, 8]), ("fpn.p3", [2, 8, 4, 4]), ("stage4", [2, 8, 2, 2]));
        using var fgd = (FocalGlobalDistillation)MethodFactory.Create("fgd", context: context);
        Assert.Equal(["fpn.p2", "fpn.p3", "fpn.p4"], fgd.StudentTaps);
        Assert.Equal((0.8, 1.6e-3, 8e-4, 8e-4, 8e-6), (fgd.Temperature, fgd.AlphaFg, fgd.BetaBg, fgd.GammaAtt, fgd.LambdaGlob));
        var parameters = fgd.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Assert.Equal(0, parameters["levels.2.channel_add_conv_t.3.weight"].Abs().Sum().Item<float>());
        Assert.Equal(0, parameters["levels.0.channel_add_conv_s.3.bias"].Abs().Sum().Item<float>());
        Assert.Equal(0, parameters["levels.1.conv_mask_s.bias"].Abs().Sum().Item<float>());
        Assert.False(parameters.ContainsKey("levels.0.align.weight"));
    }

    [Fact]
    public void Fgd_WithoutBoxTargets_SaysItNeedsTheBoxes()
    {
        var context = Context(("fpn.p3", [1, 4, 2, 2]));
        using var fgd = MethodFactory.Create("fgd", context: context);
        using var scope = DisposeScope.Enter();
        var maps = new FeatureMaps(new Dictionary<string, Tensor> { ["fpn.p3"] = Tensor.Randn([1, 4, 2, 2]) }, "student");
        var inputs = new DistillationInputs(Tensor.Randn([1, 3]), Tensor.Randn([1, 3]), Tensor.Zeros([1], DType.Int64), Tensor.Zeros([1], DType.Int64), maps, maps, 1);
        var e = Assert.Throws<ArgumentException>(() => fgd.ComputeLoss(inputs));
        Assert.Equal("fgd needs the step's ground-truth boxes; the step carries " + inputs.Targets.Kind, e.Message);
    }

    [Fact]
    public void DetectionPresets_AreTheOfficialDetectionConfigs()
    {
        var context = Context(("fpn.p2", [2, 8, 8, 8]), ("fpn.p3", [2, 8, 4, 4]), ("logits", [2, 80, 8]));
        var mgdDescriptor = MethodFactory.Find("mgd")!;
        using var mgd = (MaskedGenerativeDistillation)mgdDescriptor.Create(mgdDescriptor.WithPreset(MethodDescriptor.Detection, new Dictionary<string, object>()), context);
        Assert.Equal(["fpn.p2", "fpn.p3"], mgd.StudentTaps);
        Assert.Equal((2e-5, 0.65, "spatial"), (mgd.Alpha, mgd.MaskRatio, mgd.Mask));
        var cwdDescriptor = MethodFactory.Find("cwd")!;
        using var cwd = (ChannelWiseDistillation)cwdDescriptor.Create(cwdDescriptor.WithPreset(MethodDescriptor.Detection, new Dictionary<string, object>()), context);
        Assert.Equal(["fpn.p2", "fpn.p3"], cwd.StudentTaps);
        Assert.Equal((1.0, 5.0, "ce"), (cwd.Tau, cwd.Weight, cwd.Form));
        Assert.Contains(MethodDescriptor.Detection, MethodFactory.Find("fgd")!.AppliesTo);
    }

    [Fact]
    public void Mgd_OnADetectorsOutputs_AddsNoLogitCwdTerm()
    {
        // A detector's [B, L, K + 5] outputs are not logit maps: before the fix a 3-D output took the segmentation branch.
        var context = Context(("fpn.p3", [2, 4, 4, 4]));
        using var mgd = MethodFactory.Create("mgd", new Dictionary<string, object> { ["student_taps"] = new[] { "fpn.p3" }, ["teacher_taps"] = new[] { "fpn.p3" }, ["mask"] = "spatial" }, context);
        using var scope = DisposeScope.Enter();
        var maps = new FeatureMaps(new Dictionary<string, Tensor> { ["fpn.p3"] = Tensor.Randn([2, 4, 4, 4]) }, "maps");
        var inputs = new DistillationInputs(Tensor.Randn([2, 80, 8]), Tensor.Randn([2, 80, 8]), Boxes([[1, 1, 4, 4]], [false], (16, 16)), Tensor.Zeros([2], DType.Int64), maps, maps, 1);
        Assert.Equal(["mgd"], mgd.ComputeLoss(inputs).Terms.Select(t => t.Name));
    }

    [Fact]
    public void Check_ABoxOutsideItsImage_IsRefusedNamingTheBoxAndImage()
    {
        var golden = Fixture.Root.GetProperty("fgd_align_and_an_image_without_boxes");
        var path = WriteInputs(golden, "outside", replace: ("boxes", Tensor.From(new float[] { 4, 4, 30, 12, 0, 0, 0, 0 }, 2, 1, 4)));
        var e = Assert.Throws<CheckpointFormatException>(() => MethodCheck.Run(MethodCheck.Options("fgd", ["student_taps=[fpn.p3]", "teacher_taps=[fpn.p3]"]), path, Path.Combine(_directory, "o.safetensors")));
        Assert.Contains("outside.inputs.safetensors: box 0 of image 0 is (4, 4, 30, 12); expected 0 <= x1 <= x2 <= 24 and 0 <= y1 <= y2 <= 24 (image_sizes)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AClassificationOnlyMethod_OnADetectionStep_IsRefusedNamingItsTasks()
    {
        var golden = Fixture.Root.GetProperty("fgd_align_and_an_image_without_boxes");
        var path = WriteInputs(golden, "dkd");
        var e = Assert.Throws<CheckpointFormatException>(() => MethodCheck.Run(MethodCheck.Options("dkd", []), path, Path.Combine(_directory, "o.safetensors")));
        Assert.Contains("student.logits [2, 49, 7] are a detector's outputs [B, L, K + 5] (a detection step), and dkd applies to classification only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AMissingBoxTensor_IsNamed()
    {
        var golden = Fixture.Root.GetProperty("fgd_align_and_an_image_without_boxes");
        var path = WriteInputs(golden, "missing", skip: "image_sizes");
        var e = Assert.Throws<CheckpointFormatException>(() => MethodCheck.Run(MethodCheck.Options("fgd", ["student_taps=[fpn.p3]", "teacher_taps=[fpn.p3]"]), path, Path.Combine(_directory, "o.safetensors")));
        Assert.Contains("tensor 'image_sizes' is missing (a detection step needs image_sizes [2, 2] Int64)", e.Message, StringComparison.Ordinal);
    }

    private static BoxBatch Boxes(float[][] boxes, bool[] crowd, (int Height, int Width) size)
    {
        var t = Tensor.From(boxes.SelectMany(b => b).ToArray(), boxes.Length, 4);
        return new BoxBatch([t], [Tensor.Zeros([boxes.Length], DType.Int64)], [Tensor.From(crowd, crowd.Length)], [Tensor.Ones([boxes.Length])], [size]);
    }

    private static MethodContext Context(params (string Tap, long[] Shape)[] taps)
    {
        var shapes = taps.ToDictionary(t => t.Tap, t => t.Shape, StringComparer.Ordinal);
        return new MethodContext(shapes, shapes);
    }

    private string WriteInputs(JsonElement golden, string name, string? skip = null, (string Name, Tensor Value)? replace = null)
    {
        var path = Path.Combine(_directory, name + ".inputs.safetensors");
        using var scope = DisposeScope.Enter();
        SafeTensors.Save(path, golden.GetProperty("inputs").EnumerateObject().Where(p => p.Name != skip)
            .Select(p => new KeyValuePair<string, Tensor>(p.Name, replace is { } r && r.Name == p.Name ? r.Value : GoldenTensor.Parse(p.Value).ToTensor())).ToList());
        return path;
    }
}
