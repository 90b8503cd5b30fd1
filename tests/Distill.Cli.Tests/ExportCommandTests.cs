using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Tensor = Distill.Torch.Tensor;

namespace Distill.Cli.Tests;

/// <summary>`distill export`: a state dict to an ONNX file that ONNX Runtime runs to the model's logits; bad input is one line and exit 2.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("distill-export-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ExportWritesAFileThatOnnxRuntimeRunsToTheCheckpointsLogits()
    {
        TorchRuntime.ManualSeed(3);
        using var model = ModelRegistry.Create("resnet8", new ModelOptions(7, 1, 28));
        var checkpoint = Path.Combine(_folder, "resnet8.safetensors");
        SafeTensors.Save(checkpoint, model.StateDict());
        var onnx = Path.Combine(_folder, "resnet8.onnx");

        var (exit, stdout, stderr) = await CliProcess.Run("export", "--checkpoint", checkpoint, "--model", "resnet8", "--input", "1x28x28", "--fold-bn", "--out", onnx);

        Assert.True(exit == 0, stderr);
        Assert.Contains("batch norms folded", stdout, StringComparison.Ordinal);
        model.Eval();
        using var input = Tensor.Randn([3, 1, 28, 28]);
        float[] expected;
        using (Autograd.NoGrad())
        using (var logits = model.Forward(input))
        {
            expected = logits.ToArray<float>();
        }

        using var session = new InferenceSession(onnx);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input.ToArray<float>(), [3, 1, 28, 28]))]);
        var actual = results.Single().AsTensor<float>();
        Assert.Equal([3, 7], actual.Dimensions.ToArray());
        var scale = expected.Max(Math.Abs);
        Assert.All(expected.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * scale, $"{p.First} vs {p.Second}"));
    }

    [Fact]
    public async Task ExportOfASegmentationCheckpointReadsTheClassesFromItsLastConvolutionAndTakesAnyImageSize()
    {
        using var model = Distill.Models.Segmentation.SegmentationModels.Create("scene_student", new ModelOptions(6, 3, 32));
        var checkpoint = Path.Combine(_folder, "scene.safetensors");
        SafeTensors.Save(checkpoint, model.StateDict());
        var onnx = Path.Combine(_folder, "scene.onnx");

        var (exit, _, stderr) = await CliProcess.Run("export", "--checkpoint", checkpoint, "--model", "scene_student", "--out", onnx);

        Assert.True(exit == 0, stderr);
        var file = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        Assert.Equal(["batch", "6", "out_height", "out_width"], file.Graph.Output[0].Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task ExportOfADetectionCheckpointReadsTheClassesFromItsClassLogitConvAndTakesAnyImageSize()
    {
        using var model = Distill.Models.Detection.DetectionModels.Create("det_scene_student", new ModelOptions(4, 1, 96));
        var checkpoint = Path.Combine(_folder, "det.safetensors");
        SafeTensors.Save(checkpoint, model.StateDict());
        var onnx = Path.Combine(_folder, "det.onnx");

        var (exit, stdout, stderr) = await CliProcess.Run("export", "--checkpoint", checkpoint, "--model", "det_scene_student", "--out", onnx);

        Assert.True(exit == 0, stderr);
        Assert.Equal($"wrote {onnx} (det_scene_student, input [batch, 1, height, width], batch norms kept)", stdout.Trim());
        var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx)).Graph;
        Assert.Equal(["batch", "1", "height", "width"], graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(9, graph.Output[0].Type.TensorType.Shape.Dim[2].DimValue);
    }

    [Fact]
    public async Task ExportOfARunFolderTakesTheModelFromItsConfigAndTheWeightsFromBest()
    {
        var run = Directory.CreateDirectory(Path.Combine(_folder, "run")).FullName;
        File.WriteAllText(Path.Combine(run, "config.yaml"), "student:\n  model: resnet8\n");
        using (var model = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 28)))
        {
            SafeTensors.Save(Path.Combine(run, "best.safetensors"), model.StateDict());
        }

        var onnx = Path.Combine(_folder, "run.onnx");
        var (exit, stdout, stderr) = await CliProcess.Run("export", "--checkpoint", run, "--out", onnx);

        Assert.True(exit == 0, stderr);
        Assert.Equal($"wrote {onnx} (resnet8, input [batch, 1, 32, 32], batch norms kept)", stdout.Trim());
        Assert.True(File.Exists(onnx));
    }

    [Fact]
    public async Task ExportOfAFileWithoutModelIsOneLineAndExitCode2()
    {
        var checkpoint = Path.Combine(_folder, "x.safetensors");
        SafeTensors.Save(checkpoint, [new("w", Tensor.Zeros([1]))]);

        var (exit, _, stderr) = await CliProcess.Run("export", "--checkpoint", checkpoint, "--out", Path.Combine(_folder, "x.onnx"));

        Assert.Equal(2, exit);
        Assert.Equal($"error: --checkpoint {checkpoint} is a file: give --model (a name from `distill models`)", stderr.Trim());
    }
}
