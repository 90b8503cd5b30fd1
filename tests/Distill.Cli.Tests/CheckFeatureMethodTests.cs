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
        var loose = golden.TryGetProperty("expected_float32", out var float32);
        foreach (var expected in golden.GetProperty("expected").EnumerateObject())
        {
            // Ill-conditioned cases are matched tightly against the float32 reference (see FeatureMethodGoldenTests).
            var reference = loose ? float32.GetProperty(expected.Name) : expected.Value;
            GoldenTensor.Parse(reference).AssertMatchesToScale(file.Tensors[expected.Name], $"{name} {expected.Name}", rtol: 2e-5);
        }
    }
}
