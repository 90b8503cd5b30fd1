using Distill.Export;
using Distill.Models;
using Distill.Models.Detection;
using Distill.NN.Checkpoints;
using Distill.Tasks.Detection;
using Distill.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Tensor = Distill.Torch.Tensor;

namespace Distill.Cli.Tests;

/// <summary>docs/deploy/onnx.md's C# samples are the code these tests run: the classifier's on a file written by `distill export`, the detector's decoding on a detector's file.</summary>
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

    private const string DetectionSample = """
        using Distill.Models.Detection;
        using Distill.Tasks.Detection;
        using Tensor = Distill.Torch.Tensor;

        // results: session.Run on a batch of height x width images, as in the sample above
        var output = results.Single(r => r.Name == "logits").AsTensor<float>();
        using var tensor = Tensor.From(output.ToArray(), [.. output.Dimensions.ToArray().Select(d => (long)d)]);
        var detections = new FcosPostProcess().Detect(tensor, model.Levels(height, width));   // boxes, scores, labels per image
        """;

    private const string Page = "docs/deploy/onnx.md";

    private readonly string _folder = Directory.CreateTempSubdirectory("distill-deploy-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task TheOnnxRuntimeSampleRunsAsWritten()
    {
        Assert.Equal(Sample.ReplaceLineEndings("\n"), MarkdownBlocks.Block(Page, "csharp", 0));

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

    /// <summary>
    /// The detector's decoding sample, run on ONNX Runtime's output for a file exported at 96 x 96 and run on 70 x 90
    /// images, gives the detections the library gives on Distill's own output for the same images. The class-logit
    /// biases are drawn in [-1, 1] (not the prior's -4.6) so that the images have detections to compare.
    /// </summary>
    [Fact]
    public void TheDetectionDecodingSampleRunsAsWrittenAndGivesDistillsDetections()
    {
        Assert.Equal(DetectionSample.ReplaceLineEndings("\n"), MarkdownBlocks.Block(Page, "csharp", 1));
        const int Images = 2;
        TorchRuntime.ManualSeed(17);
        using var model = DetectionModels.Create("det_scene_student", new ModelOptions(5, 3, 96));
        using (Autograd.NoGrad())
        {
            model.NamedParameters().Single(p => p.Name.EndsWith("cls_logits.bias", StringComparison.Ordinal)).Parameter.UniformInPlace(-1, 1);
        }

        model.Eval();
        var file = Path.Combine(_folder, "detector.onnx");
        OnnxExporter.Export(model, [3, 96, 96], file);
        var (height, width) = (70, 90);
        using var images = Tensor.Randn([Images, 3, height, width]);
        using var session = new InferenceSession(file);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(images.ToArray<float>(), [Images, 3, height, width]))]);

        // The sample, line for line (its using directives are this file's).
        var output = results.Single(r => r.Name == "logits").AsTensor<float>();
        using var tensor = Tensor.From(output.ToArray(), [.. output.Dimensions.ToArray().Select(d => (long)d)]);
        var detections = new FcosPostProcess().Detect(tensor, model.Levels(height, width));   // boxes, scores, labels per image

        using var noGrad = Autograd.NoGrad();
        using var distillOutput = model.Forward(images);
        var expected = new FcosPostProcess().Detect(distillOutput, model.Levels(height, width));
        Assert.Equal(Images, detections.Count);
        for (var i = 0; i < Images; i++)
        {
            AssertSameBestDetections(expected[i], detections[i], $"image {i}");
        }

        foreach (var d in detections.Concat(expected))
        {
            d.Boxes.Dispose();
            d.Scores.Dispose();
            d.Labels.Dispose();
        }
    }

    /// <summary>
    /// Same number of detections, and the ten best agree: labels exactly, scores and boxes within float rounding of
    /// the two runtimes (the raw outputs agree to ~1e-5 of their scale; boxes are distances times strides up to 16
    /// pixels, 1e-3 px leaves a wide margin). Only the best are compared: lower down, two candidates whose scores
    /// differ by less than the rounding may trade places.
    /// </summary>
    private static void AssertSameBestDetections(FcosDetections expected, FcosDetections actual, string what)
    {
        var count = expected.Scores.Shape[0];
        Assert.True(count >= 10, $"{what}: only {count} detections; the comparison would prove little");
        Assert.Equal(count, actual.Scores.Shape[0]);
        var (es, as_) = (expected.Scores.ToArray<float>(), actual.Scores.ToArray<float>());
        var (eb, ab) = (expected.Boxes.ToArray<float>(), actual.Boxes.ToArray<float>());
        var (el, al) = (expected.Labels.ToArray<long>(), actual.Labels.ToArray<long>());
        for (var k = 0; k < 10; k++)
        {
            Assert.Equal(el[k], al[k]);
            Assert.True(Math.Abs(es[k] - as_[k]) <= 1e-5, $"{what}: score {k}: {es[k]} vs {as_[k]}");
            for (var c = 0; c < 4; c++)
            {
                Assert.True(Math.Abs(eb[(4 * k) + c] - ab[(4 * k) + c]) <= 1e-3, $"{what}: box {k} coordinate {c}: {eb[(4 * k) + c]} vs {ab[(4 * k) + c]}");
            }
        }
    }
}
