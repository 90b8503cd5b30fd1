using System.Globalization;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// Every case of eng/golden/detection_methods.py (detection steps: FPN maps, ground-truth boxes as padded tensors, the
/// detection task's focal, box and centerness terms before the method's) through the `distill check` command line, the
/// levels given in the file, and one-line errors for a bad box and for outputs that do not fit the levels.
/// </summary>
public sealed class CheckDetectionMethodTests : IDisposable
{
    private static readonly JsonFixture Fixture = new("detection_methods.json");
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-check-det-").FullName;

    public static TheoryData<string> Cases => Fixture.Names();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void DistillCheck_OnADetectionStepWithBoxes_WritesTheReferenceTermsAndGradients(string name)
    {
        var golden = Fixture.Root.GetProperty(name);
        var inputs = Save(golden, "in.safetensors");
        var output = Path.Combine(_directory, "out.safetensors");
        string[] args =
        [
            "check", "--method", golden.GetProperty("method").GetString()!, "--epoch", golden.GetProperty("epoch").GetInt32().ToString(CultureInfo.InvariantCulture),
            "--inputs", inputs, "--output", output, .. golden.GetProperty("options").EnumerateArray().SelectMany(o => new[] { "--set", o.GetString()! }),
        ];
        var stdout = new StringWriter();
        var error = new StringWriter();
        Assert.True(CliRunner.Run(args, stdout, error, _ => null) == 0, error.ToString());
        Assert.Contains("loss.total = ", stdout.ToString(), StringComparison.Ordinal);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);

        // 2e-5 of the largest magnitude, as Distill.Tests' DetectionMethodCheckTests reasons it.
        foreach (var expected in golden.GetProperty("expected").EnumerateObject())
        {
            GoldenTensor.Parse(expected.Value).AssertMatchesToScale(file.Tensors[expected.Name], $"{name} {expected.Name}", rtol: 2e-5);
        }
    }

    [Fact]
    public void DistillCheck_ABoxLabelAboveTheClasses_ExitsWithOneLineNamingTheFileBoxAndImage()
    {
        var golden = Fixture.Root.GetProperty("fgd_align_and_an_image_without_boxes");
        var inputs = Save(golden, "bad.safetensors", ("box_labels", Tensor.Full([2, 1], 9, DType.Int64)));
        var stdout = new StringWriter();
        var error = new StringWriter();
        var code = CliRunner.Run(["check", "--method", "fgd", "--set", "student_taps=[fpn.p3]", "--set", "teacher_taps=[fpn.p3]", "--inputs", inputs, "--output", Path.Combine(_directory, "o.safetensors")], stdout, error, _ => null);
        Assert.NotEqual(0, code);
        Assert.Contains($"{inputs}: box 0 of image 0 has label 9 and crowd 0; expected a label in [0, 2) (K from student.logits) and crowd 0 or 1", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DistillCheck_TheSceneLevelsGivenInTheFile_GiveTheSameTermsAsTheDefault()
    {
        // levels.strides and levels.scale_ranges of the det_scene pair: the same levels as without them, so the same numbers.
        var golden = Fixture.Root.GetProperty("mgd_fpn_levels");
        var inputs = Save(golden, "levels.safetensors", extra:
        [
            new("levels.strides", Tensor.From(new long[] { 4, 8, 16 }, 3)),
            new("levels.scale_ranges", Tensor.From(new float[] { -1, 12, 12, 24, 24, 1e8f }, 3, 2)),
        ]);
        var output = Path.Combine(_directory, "levels.out.safetensors");
        var error = new StringWriter();
        Assert.True(CliRunner.Run(["check", "--method", "mgd", .. golden.GetProperty("options").EnumerateArray().SelectMany(o => new[] { "--set", o.GetString()! }), "--inputs", inputs, "--output", output], new StringWriter(), error, _ => null) == 0, error.ToString());
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);
        foreach (var term in new[] { "loss.focal", "loss.box", "loss.centerness", "loss.total", "grad.student.logits" })
        {
            GoldenTensor.Parse(golden.GetProperty("expected").GetProperty(term)).AssertMatchesToScale(file.Tensors[term], term, rtol: 2e-5);
        }
    }

    [Fact]
    public void DistillCheck_OutputsWhoseLocationsAreNotTheLevels_ExitWithOneLineNamingLAndTheLevels()
    {
        // 32x32 images at strides 8 and 16 have 4x4 + 2x2 = 20 locations; the file's outputs have the scene pair's 84.
        var golden = Fixture.Root.GetProperty("mgd_fpn_levels");
        var inputs = Save(golden, "wrong.safetensors", extra:
        [
            new("levels.strides", Tensor.From(new long[] { 8, 16 }, 2)),
            new("levels.scale_ranges", Tensor.From(new float[] { -1, 64, 64, 1e8f }, 2, 2)),
        ]);
        var error = new StringWriter();
        var code = CliRunner.Run(["check", "--method", "mgd", .. golden.GetProperty("options").EnumerateArray().SelectMany(o => new[] { "--set", o.GetString()! }), "--inputs", inputs, "--output", Path.Combine(_directory, "o.safetensors")], new StringWriter(), error, _ => null);
        Assert.NotEqual(0, code);
        Assert.Contains($"{inputs}: tensor 'student.logits' has L = 84 locations, but the levels of levels.strides at strides 8, 16 for a 32x32 input (the largest of image_sizes) have 20 (4x4 + 2x2)", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }

    private string Save(System.Text.Json.JsonElement golden, string name, (string Name, Tensor Value)? replace = null, KeyValuePair<string, Tensor>[]? extra = null)
    {
        var path = Path.Combine(_directory, name);
        using var scope = DisposeScope.Enter();
        SafeTensors.Save(path, golden.GetProperty("inputs").EnumerateObject()
            .Select(p => new KeyValuePair<string, Tensor>(p.Name, replace is { } r && r.Name == p.Name ? r.Value : GoldenTensor.Parse(p.Value).ToTensor()))
            .Concat(extra ?? []).ToList());
        return path;
    }
}
