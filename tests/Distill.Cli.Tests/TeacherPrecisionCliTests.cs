using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>teacher.precision: bf16 on a processor (or libtorch) without bfloat16 kernels stops before training with one error.</summary>
public sealed class TeacherPrecisionCliTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-bf16-cli-").FullName;

    [Fact]
    public async Task Bf16Teacher_WhereOneDnnHasNoBfloat16Convolution_IsOneErrorNamingTheKey_Exit2()
    {
        TinyIdx.Write(_root, 16, 8);
        using (DisposeScope.Enter())
        {
            using var resnet8 = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 12));
            SafeTensors.Save(Path.Combine(_root, "resnet8.safetensors"), resnet8.StateDict());
        }

        var recipe = TinyIdx.Recipe(_root, $"""
            train:
              epochs: 1
              lr: 0.05
            method:
              name: kd
            teacher:
              model: resnet8
              checkpoint: {Path.Combine(_root, "resnet8.safetensors")}
              precision: bf16
            output: {Path.Combine(_root, "run")}
            """);
        File.WriteAllText(Path.Combine(_root, "kd.yaml"), recipe);

        // oneDNN limited to AVX2 has no bfloat16 convolution: what an older processor sees.
        var (exit, stdout, stderr) = await CliProcess.RunWith(new Dictionary<string, string> { ["ONEDNN_MAX_CPU_ISA"] = "AVX2" }, "train", "--config", Path.Combine(_root, "kd.yaml"));

        Assert.True(exit == 2, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains("error: teacher.precision: bf16: this libtorch cannot run the teacher (ResNet) in bfloat16 on this processor", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
