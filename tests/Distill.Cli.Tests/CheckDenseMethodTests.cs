using System.Globalization;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// Every case of eng/golden/dense_methods.py (segmentation steps: logit maps, masks with ignored pixels) through the
/// `distill check` command line: terms, total and every gradient against the references written from the official code.
/// </summary>
public sealed class CheckDenseMethodTests : IDisposable
{
    private static readonly JsonFixture Fixture = new("dense_methods.json");
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-check-dense-").FullName;

    public static TheoryData<string> Cases => Fixture.Names();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void DistillCheck_OnASegmentationStep_WritesTheReferenceTermsAndGradients(string name)
    {
        var golden = Fixture.Root.GetProperty(name);
        var inputs = Path.Combine(_directory, "in.safetensors");
        var output = Path.Combine(_directory, "out.safetensors");
        using (DisposeScope.Enter())
        {
            SafeTensors.Save(inputs, golden.GetProperty("inputs").EnumerateObject().Select(p => new KeyValuePair<string, Tensor>(p.Name, GoldenTensor.Parse(p.Value).ToTensor())).ToList());
        }

        var iteration = golden.TryGetProperty("iteration", out var it) ? it.GetInt32() : 0;
        string[] args =
        [
            "check", "--method", golden.GetProperty("method").GetString()!, "--epoch", golden.GetProperty("epoch").GetInt32().ToString(CultureInfo.InvariantCulture),
            "--iteration", iteration.ToString(CultureInfo.InvariantCulture),
            "--inputs", inputs, "--output", output, .. golden.GetProperty("options").EnumerateArray().SelectMany(o => new[] { "--set", o.GetString()! }),
        ];
        var stdout = new StringWriter();
        var error = new StringWriter();
        Assert.True(CliRunner.Run(args, stdout, error, _ => null) == 0, error.ToString());
        Assert.Contains("loss.total = ", stdout.ToString(), StringComparison.Ordinal);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);

        // 2e-5 of the largest magnitude, as Distill.Tests' MethodCheckDenseTests reasons it (pixel CE over <= 2,048 pixels).
        foreach (var expected in golden.GetProperty("expected").EnumerateObject())
        {
            GoldenTensor.Parse(expected.Value).AssertMatchesToScale(file.Tensors[expected.Name], $"{name} {expected.Name}", rtol: 2e-5);
        }
    }

    [Theory]
    [InlineData("skd_check_8x8.safetensors", "check8.", 16)]
    [InlineData("skd_check_65x65.safetensors", "check65.", 8)]
    public void DistillCheck_Skd_WritesTheStudentTermsAndTheDiscriminatorStepOfTheOfficialCode(string file, string prefix, int convDim)
    {
        // The committed input files as they are (eng/golden/skd.py), as docs/methods/skd.md shows the command.
        var output = Path.Combine(_directory, "skd.out.safetensors");
        string[] args = ["check", "--method", "skd", "--set", $"d_conv_dim={convDim}", "--inputs", FixtureFiles.PathOf(file), "--output", output];
        var stdout = new StringWriter();
        var error = new StringWriter();
        Assert.True(CliRunner.Run(args, stdout, error, _ => null) == 0, error.ToString());
        Assert.Contains("loss.total = ", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("loss.d_gp = ", stdout.ToString(), StringComparison.Ordinal);
        using var scope = DisposeScope.Enter();
        using var golden = SafeTensors.Load(FixtureFiles.PathOf("skd.safetensors"));
        using var written = SafeTensors.Load(output);
        CheckOutputGolden.AssertMatches(golden.Tensors, prefix, written.Tensors, file);
    }

    [Fact]
    public void DistillCheck_ABadMaskValue_ExitsWithOneLineNamingTheFile()
    {
        var inputs = Path.Combine(_directory, "bad.safetensors");
        using (DisposeScope.Enter())
        {
            SafeTensors.Save(inputs, [new("student.logits", Tensor.Zeros([1, 2, 2, 2])), new("teacher.logits", Tensor.Zeros([1, 2, 2, 2])),
                new("masks", Tensor.From(new long[] { 0, 1, 2, 255 }, 1, 2, 2))]);
        }

        var error = new StringWriter();
        var code = CliRunner.Run(["check", "--method", "kd", "--inputs", inputs, "--output", Path.Combine(_directory, "o.safetensors")], new StringWriter(), error, _ => null);
        Assert.NotEqual(0, code);
        Assert.Contains($"{inputs}: tensor 'masks' holds 2; expected class indices in [0, 2) or 255 (ignored)", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }
}
