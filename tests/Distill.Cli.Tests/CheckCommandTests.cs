using System.CommandLine;
using System.Text.Json;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>`distill check` on the logit-method goldens (float32 inputs from eng/golden/logit_methods.py's float64 cases).</summary>
public sealed class CheckCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-check-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("kd.b7_k100", "kd", new string[0], 1)]
    [InlineData("kd_ls.b4_k10", "kd", new[] { "logit_standardization=true", "temperature=2", "kd_weight=9" }, 1)]
    [InlineData("dkd_warmup_epoch5.b7_k100", "dkd", new string[0], 5)]
    public void Check_WritesTheReferenceTermsAndGradient(string goldenCase, string method, string[] options, int epoch)
    {
        var golden = Golden().GetProperty(goldenCase);
        var inputs = Path.Combine(_directory, "in.safetensors");
        var output = Path.Combine(_directory, "out.safetensors");
        using (DisposeScope.Enter())
        {
            SafeTensors.Save(inputs, [
                new("student.logits", ToTensor(golden.GetProperty("student")).To(DType.Float32)),
                new("teacher.logits", ToTensor(golden.GetProperty("teacher")).To(DType.Float32)),
                new("labels", ToTensor(golden.GetProperty("labels"))),
            ]);
        }

        string[] args = ["check", "--method", method, "--epoch", epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--inputs", inputs, "--output", output, .. options.SelectMany(o => new[] { "--set", o })];
        var error = new StringWriter();
        Assert.Equal(0, CliRunner.Run(args, new StringWriter(), error, _ => null));
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);
        foreach (var term in golden.GetProperty("terms").EnumerateObject())
        {
            var actual = file.Tensors[$"loss.{term.Name}"].To(DType.Float64).Item<double>();
            Assert.True(Math.Abs(actual - term.Value.GetDouble()) <= 1e-5 * Math.Max(1, Math.Abs(term.Value.GetDouble())), $"{goldenCase} {term.Name}: {actual} vs {term.Value.GetDouble()}");
        }

        var expected = golden.GetProperty("grad_student").GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var grad = file.Tensors["grad.student.logits"].To(DType.Float64).ToArray<double>();
        var scale = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(grad[i] - expected[i]) <= 1e-5 * scale, $"{goldenCase} grad[{i}]: {grad[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Check_MissingTensor_IsNamedWithItsExpectedShape()
    {
        var inputs = Path.Combine(_directory, "in.safetensors");
        using (DisposeScope.Enter())
        {
            SafeTensors.Save(inputs, [new("student.logits", Tensor.Zeros([2, 3]))]);
        }

        var error = new StringWriter();
        var code = CliRunner.Run(["check", "--method", "kd", "--inputs", inputs, "--output", Path.Combine(_directory, "o")], new StringWriter(), error, _ => null);
        Assert.Equal(2, code);
        Assert.Contains("tensor 'teacher.logits' is missing (expected [B, 3] Float32)", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_ListsParametersAndOptions_AndUnknownOptionsAreRejected()
    {
        var output = new StringWriter();
        Assert.Equal(0, CliRunner.Run(["check", "--method", "ctkd", "--describe"], output, new StringWriter(), _ => null));
        Assert.Contains("theta [] Float32", output.ToString(), StringComparison.Ordinal);
        var error = new StringWriter();
        Assert.Equal(2, CliRunner.Run(["check", "--method", "kd", "--describe", "--set", "temprature=2"], new StringWriter(), error, _ => null));
        Assert.Contains("unknown key 'method.temprature'", error.ToString(), StringComparison.Ordinal);
    }

    private static JsonElement Golden() =>
        JsonDocument.Parse(File.ReadAllBytes(FixtureFiles.PathOf("logit_methods.json"))).RootElement;

    private static Tensor ToTensor(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return e.GetProperty("dtype").GetString() == "int64" ? Tensor.From(data.Select(v => (long)v).ToArray(), shape) : Tensor.From(data, shape);
    }
}
