using System.CommandLine;
using System.Globalization;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>Every case of eng/golden/feature_methods.py through the `distill check` command line: terms, total and every gradient.</summary>
public sealed class CheckFeatureMethodTests : IDisposable
{
    private static readonly JsonFixture Fixture = new("feature_methods.json");
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-check-features-").FullName;

    public static TheoryData<string> Cases => Fixture.Names();

    // Every method, described (without --inputs) on the example networks of the first task it applies to: a
    // segmentation-only method such as skd on logit maps [B, K, h, w] with masks.
    public static TheoryData<string> Methods => [.. Distill.Methods.MethodFactory.Descriptors.Select(d => d.Name)];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Methods))]
    public void Describe_WorksForEveryRegisteredMethod(string method)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CliRunner.Run(["check", "--method", method, "--describe"], output, error, _ => null) == 0, error.ToString());
        Assert.StartsWith($"method {method}:", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("options (--set key=value):", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DistillCheck_WritesTheReferenceTermsAndGradients(string name)
    {
        var golden = Fixture.Root.GetProperty(name);
        var inputs = Path.Combine(_directory, "in.safetensors");
        var output = Path.Combine(_directory, "out.safetensors");
        using (DisposeScope.Enter())
        {
            SafeTensors.Save(inputs, golden.GetProperty("inputs").EnumerateObject().Select(p => new KeyValuePair<string, Tensor>(p.Name, GoldenTensor.Parse(p.Value).ToTensor())).ToList());
        }

        string[] args =
        [
            "check", "--method", golden.GetProperty("method").GetString()!, "--epoch", golden.GetProperty("epoch").GetInt32().ToString(CultureInfo.InvariantCulture),
            "--inputs", inputs, "--output", output, .. golden.GetProperty("options").EnumerateArray().SelectMany(o => new[] { "--set", o.GetString()! }),
        ];
        var error = new StringWriter();
        Assert.True(CliRunner.Run(args, new StringWriter(), error, _ => null) == 0, error.ToString());
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);
        // Ill-conditioned cases (with a float32 reference run) lose ~1e-4 of the largest magnitude to float32
        // rounding, which differs between CPUs: 1e-3 against float64 there, 2e-5 elsewhere (see FeatureMethodGoldenTests).
        var illConditioned = golden.TryGetProperty("expected_float32", out _);
        foreach (var expected in golden.GetProperty("expected").EnumerateObject())
        {
            GoldenTensor.Parse(expected.Value).AssertMatchesToScale(file.Tensors[expected.Name], $"{name} {expected.Name}", rtol: illConditioned ? 1e-3 : 2e-5);
        }
    }
}
