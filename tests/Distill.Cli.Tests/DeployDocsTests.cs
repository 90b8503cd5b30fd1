using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>docs/deploy/onnx.md's C# sample is the code this test runs on a file written by `distill export`.</summary>
[Collection(WorkingDirectoryCollection.Name)]
public sealed class DeployDocsTests : IDisposable
{
    private const string Sample = """
        using Microsoft.ML.OnnxRuntime;
        using Microsoft.ML.OnnxRuntime.Tensors;

        using var session = new InferenceSession("resnet8.onnx");
        var pixels = new float[2 * 1 * 28 * 28];
        var input = new DenseTensor<float>(pixels, [2, 1, 28, 28]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
        var predicted = Enumerable.Range(0, 2).Select(i => Enumerable.Range(0, logits.Dimensions[1]).MaxBy(c => logits[i, c])).ToArray();
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("distill-deploy-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task TheOnnxRuntimeSampleRunsAsWritten()
    {
        var page = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "deploy", "onnx.md")).ReplaceLineEndings("\n");
        var start = page.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        Assert.Equal(Sample.ReplaceLineEndings("\n"), page[start..page.IndexOf("\n```", start, StringComparison.Ordinal)]);

        using (var model = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 28)))
        {
            SafeTensors.Save(Path.Combine(_folder, "best.safetensors"), model.StateDict());
        }

        var (exit, _, stderr) = await CliProcess.Run("export", "--checkpoint", Path.Combine(_folder, "best.safetensors"), "--model", "resnet8", "--input", "1x28x28", "--out", Path.Combine(_folder, "resnet8.onnx"));
        Assert.True(exit == 0, stderr);
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _folder;
        try
        {
            // The sample, line for line.
            using var session = new InferenceSession("resnet8.onnx");
            var pixels = new float[2 * 1 * 28 * 28];
            var input = new DenseTensor<float>(pixels, [2, 1, 28, 28]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
            var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
            var predicted = Enumerable.Range(0, 2).Select(i => Enumerable.Range(0, logits.Dimensions[1]).MaxBy(c => logits[i, c])).ToArray();

            Assert.Equal([2, 10], logits.Dimensions.ToArray());
            Assert.All(predicted, p => Assert.InRange(p, 0, 9));
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }
}
