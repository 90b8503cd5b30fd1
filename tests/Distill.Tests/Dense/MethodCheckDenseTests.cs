using System.Text.Json;
using Distill.NN.Checkpoints;
using Distill.Parity;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Dense;

/// <summary>
/// The goldens of eng/golden/dense_methods.py (cwd on logit maps and on features with TorchDistiller's align, mgd seg
/// with recorded masks and its CWD logit term, tfd / tfd+ on equal-size stages, kd on pixels) through the parity
/// harness on segmentation steps (logit maps, masks with ignored pixels), and the harness's checks of dense inputs.
/// </summary>
public sealed class MethodCheckDenseTests : IDisposable
{
    private static readonly JsonFixture Fixture = new("dense_methods.json");
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-dense-").FullName;

    public static TheoryData<string> Cases => Fixture.Names();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Check_OnASegmentationStep_MatchesTheOfficialCodesReference(string name)
    {
        var golden = Fixture.Root.GetProperty(name);
        var inputs = WriteInputs(golden, name);
        var output = Path.Combine(_directory, name + ".out.safetensors");
        var method = MethodCheck.Options(golden.GetProperty("method").GetString()!, golden.GetProperty("options").EnumerateArray().Select(o => o.GetString()!));
        var iteration = golden.TryGetProperty("iteration", out var it) ? it.GetInt32() : 0;
        MethodCheck.Run(method, inputs, output, golden.GetProperty("epoch").GetInt32(), iteration: iteration);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);
        var expected = golden.GetProperty("expected").EnumerateObject().ToDictionary(p => p.Name, p => GoldenTensor.Parse(p.Value));
        Assert.Equal(expected.Keys.Order(), file.Tensors.Keys.Where(k => !k.StartsWith("random.", StringComparison.Ordinal)).Order());

        // Float32 against the float64 reference: our own rounding only. The longest reduction is the pixel
        // cross-entropy's mean over up to 2,048 pixels (and MGD's sum over 1,280 squares): lambda u sqrt(n) =
        // 6 * 2^-24 * 45 = 1.6e-5 of the largest magnitude, so 2e-5 as for the feature goldens.
        foreach (var (key, value) in expected)
        {
            value.AssertMatchesToScale(file.Tensors[key], $"{name} {key}", rtol: 2e-5);
        }
    }

    /// <summary>skd's check input files (eng/golden/skd.py) with the options they were written for.</summary>
    public static TheoryData<string, string, string[]> SkdCases => new()
    {
        { "skd_check_8x8.safetensors", "check8.", ["d_conv_dim=16"] },
        { "skd_check_65x65.safetensors", "check65.", ["d_conv_dim=8"] },
    };

    [Theory]
    [MemberData(nameof(SkdCases))]
    public void Check_Skd_StudentTermsGradientsAndTheDiscriminatorsStepWithItsGradientPenalty_MatchTheOfficialCode(string file, string prefix, string[] options)
    {
        // 8x8: the small-map discriminator (one stride-2 conv); 65x65: the official layout (four, two attention blocks).
        var inputs = FixtureFiles.PathOf(file);
        var output = Path.Combine(_directory, "skd.out.safetensors");
        var values = MethodCheck.Run(MethodCheck.Options("skd", options), inputs, output);
        Assert.Equal(["ce", "pixel", "pair", "holistic", "total", "d_adv", "d_gp", "d_real", "d_fake"], values.Keys);
        using var scope = DisposeScope.Enter();
        using var golden = SafeTensors.Load(FixtureFiles.PathOf("skd.safetensors"));
        using var given = SafeTensors.Load(inputs);
        using var written = SafeTensors.Load(output);
        CheckOutputGolden.AssertMatches(golden.Tensors, prefix, written.Tensors, file);

        // The given alpha is the one the gradient penalty used, written back as the step's draw.
        Assert.Equal(given.Tensors["random.alpha"].ToArray<float>(), written.Tensors["random.alpha"].ToArray<float>());
    }

    [Fact]
    public void Describe_Skd_WithoutInputs_ListsSegmentationShapedInputs()
    {
        // skd applies to segmentation only: its example is the scene networks (logit maps, masks), not resnet8 on images.
        var text = MethodCheck.Describe(MethodCheck.Options("skd", []));
        Assert.Contains("inputs (shapes for student scene_student, teacher scene_teacher, 1x64x64 scenes with 11 classes; B is the batch size)", text, StringComparison.Ordinal);
        Assert.Contains("student.logits [B, 11, 8, 8] Float32 (logit maps)", text, StringComparison.Ordinal);
        Assert.Contains("masks [B, 64, 64] Int64 (class indices in [0, 11), or 255 (ignored))", text, StringComparison.Ordinal);
        Assert.Contains("student.context [B, 32, 8, 8] Float32", text, StringComparison.Ordinal);
        Assert.Contains("discriminator.l1.0.weight_u [64] Float32", text, StringComparison.Ordinal);
        Assert.Contains("alpha [B, 1, 1, 1]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("labels", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ExampleContext_OfEachTask_HasItsNetworksShapes()
    {
        Assert.Equal([1L, 100], MethodCheck.ExampleContext().StudentShape("logits"));
        Assert.Equal([1L, 11, 8, 8], MethodCheck.ExampleContext(Methods.MethodDescriptor.Segmentation).StudentShape("logits"));
        Assert.Equal([1L, 64, 8, 8], MethodCheck.ExampleContext(Methods.MethodDescriptor.Segmentation).TeacherShape("context"));
        Assert.Equal([1L, 756, 15], MethodCheck.ExampleContext(Methods.MethodDescriptor.Detection).StudentShape("logits"));
        var e = Assert.Throws<ArgumentException>(() => MethodCheck.ExampleContext("pose"));
        Assert.StartsWith("no example networks for the task 'pose' (tasks: classification, segmentation, detection)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_TheTapLogits_IsStudentLogits_OneLeafWithOneGradient()
    {
        var golden = Fixture.Root.GetProperty("cwd_logits_channel");
        var output = Path.Combine(_directory, "tap.out.safetensors");
        MethodCheck.Run(MethodCheck.Options("cwd", ["student_tap=logits", "teacher_tap=logits"]), WriteInputs(golden, "tap"), output);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);
        Assert.Equal(["grad.student.logits"], file.Tensors.Keys.Where(k => k.StartsWith("grad.student.", StringComparison.Ordinal)));
    }

    [Fact]
    public void Check_MgdSeg_WithoutAMask_WritesTheDrawnOne_AndReplayingItGivesTheSameTotal()
    {
        var golden = Fixture.Root.GetProperty("mgd_seg");
        var withoutMask = WriteInputs(golden, "no-mask", skip: "random.mask");
        string[] options = ["student_tap=stage4", "teacher_tap=stage4", "mask=spatial", "mask_ratio=0.75", "alpha=2e-5"];
        var first = Path.Combine(_directory, "first.safetensors");
        TorchRuntime.ManualSeed(5);
        var sampled = MethodCheck.Run(MethodCheck.Options("mgd", options), withoutMask, first);
        var replay = Path.Combine(_directory, "replay.safetensors");
        using (DisposeScope.Enter())
        {
            using var inputs = SafeTensors.Load(withoutMask);
            using var drawn = SafeTensors.Load(first);
            Assert.Equal([2L, 1, 8, 8], drawn.Tensors["random.mask"].Shape);
            SafeTensors.Save(replay, [.. inputs.Tensors, new("random.mask", drawn.Tensors["random.mask"])]);
        }

        TorchRuntime.ManualSeed(99);
        var replayed = MethodCheck.Run(MethodCheck.Options("mgd", options), replay, Path.Combine(_directory, "second.safetensors"));
        Assert.Equal(sampled["total"], replayed["total"]);
        Assert.True(sampled.ContainsKey("cwd_logits"));
    }

    [Fact]
    public void Check_LabelsWithLogitMaps_AreRefused_NamingTheMasksInstead()
    {
        var path = Save("labels.safetensors", ("student.logits", Tensor.Randn([2, 3, 4, 4])), ("labels", Tensor.Zeros([2], DType.Int64)));
        var e = Assert.Throws<CheckpointFormatException>(() => MethodCheck.Run(MethodCheck.Options("tfd", []), path, Path.Combine(_directory, "o.safetensors")));
        Assert.Contains("tensor 'labels' is given with logit maps [2, 3, 4, 4]; a segmentation step takes masks [B, H, W] Int64 instead", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MasksWithClassLogits_AreRefused()
    {
        var path = Save("masks.safetensors", ("student.logits", Tensor.Randn([2, 3])), ("masks", Tensor.Zeros([2, 4, 4], DType.Int64)));
        var e = Assert.Throws<CheckpointFormatException>(() => MethodCheck.Run(MethodCheck.Options("kd", []), path, Path.Combine(_directory, "o.safetensors")));
        Assert.Contains("tensor 'masks' [2, 4, 4] needs logit maps, but student.logits is [2, 3]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AMaskValueAboveTheClasses_IsRefusedNamingTheValue_ButIgnoredPixelsAreFine()
    {
        var masks = Tensor.Full([1, 2, 2], 255, DType.Int64);
        var fine = Save("fine.safetensors", ("student.logits", Tensor.Randn([1, 3, 2, 2])), ("teacher.logits", Tensor.Randn([1, 3, 2, 2])), ("masks", masks));
        Assert.Contains("kd", MethodCheck.Run(MethodCheck.Options("kd", []), fine, Path.Combine(_directory, "fine.out.safetensors")).Keys);
        var bad = Save("bad.safetensors", ("student.logits", Tensor.Randn([1, 3, 2, 2])), ("teacher.logits", Tensor.Randn([1, 3, 2, 2])),
            ("masks", Tensor.From(new long[] { 0, 3, 255, 7 }, 1, 2, 2)));
        var e = Assert.Throws<CheckpointFormatException>(() => MethodCheck.Run(MethodCheck.Options("kd", []), bad, Path.Combine(_directory, "o.safetensors")));
        Assert.Contains("bad.safetensors: tensor 'masks' holds 3, 7; expected class indices in [0, 3) or 255 (ignored)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AClassificationOnlyMethod_OnLogitMaps_IsRefusedNamingItsTasks()
    {
        var path = Save("dkd.safetensors", ("student.logits", Tensor.Randn([2, 3, 4, 4])), ("teacher.logits", Tensor.Randn([2, 3, 4, 4])), ("masks", Tensor.Zeros([2, 8, 8], DType.Int64)));
        var e = Assert.Throws<CheckpointFormatException>(() => MethodCheck.Run(MethodCheck.Options("dkd", []), path, Path.Combine(_directory, "o.safetensors")));
        Assert.Contains("student.logits [2, 3, 4, 4] are logit maps (a segmentation step), and dkd applies to classification only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_OnADenseFile_ListsLogitMapsAndMasks()
    {
        var golden = Fixture.Root.GetProperty("kd_seg_default");
        var text = MethodCheck.Describe(MethodCheck.Options("kd", []), WriteInputs(golden, "describe"));
        Assert.Contains("student.logits [B, 7, 5, 5] Float32 (logit maps)", text, StringComparison.Ordinal);
        Assert.Contains("masks [B, 20, 20] Int64 (class indices in [0, 7), or 255 (ignored))", text, StringComparison.Ordinal);
        Assert.DoesNotContain("labels", text, StringComparison.Ordinal);
    }

    private string WriteInputs(JsonElement golden, string name, string? skip = null)
    {
        var path = Path.Combine(_directory, name + ".inputs.safetensors");
        using var scope = DisposeScope.Enter();
        SafeTensors.Save(path, golden.GetProperty("inputs").EnumerateObject().Where(p => p.Name != skip)
            .Select(p => new KeyValuePair<string, Tensor>(p.Name, GoldenTensor.Parse(p.Value).ToTensor())).ToList());
        return path;
    }

    private string Save(string name, params (string Name, Tensor Value)[] tensors)
    {
        var path = Path.Combine(_directory, name);
        SafeTensors.Save(path, tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, t.Value)).ToList());
        return path;
    }
}
