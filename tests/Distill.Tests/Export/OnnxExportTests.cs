using Distill.Export;
using Distill.Models;
using Distill.NN;
using Distill.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Tensor = Distill.Torch.Tensor;

namespace Distill.Tests.Export;

/// <summary>
/// Every classification model of the zoo, exported to ONNX and run in ONNX Runtime on the same inputs as in Distill,
/// gives Distill's eval-mode logits, with batch norms kept and folded.
/// </summary>
public sealed class OnnxExportTests
{
    private const int Batch = 2;

    public static TheoryData<string, bool> ZooModels()
    {
        var data = new TheoryData<string, bool>();
        foreach (var (name, _) in ModelRegistry.Names)
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    /// <summary>
    /// Exported at 32 x 32 and run at 32 x 32; every CNN (global average pooling before its classifier) also at a second
    /// size through the same file: 40 x 48, or for VGG 64 x 64, where its fourth max pool switches on. The ViTs hold
    /// the exported size (their position embedding has one entry per patch).
    /// </summary>
    [Theory]
    [MemberData(nameof(ZooModels))]
    public void ExportedModelGivesDistillsLogitsInOnnxRuntime(string name, bool foldBatchNorm)
    {
        TorchRuntime.ManualSeed(7);
        using var model = ModelRegistry.Create(name, new ModelOptions(10, 3, 32));
        RandomizeBatchNorms(model);
        model.Eval();
        var bytes = OnnxExporter.Export(model, [3, 32, 32], new OnnxExportOptions { FoldBatchNorm = foldBatchNorm });
        var anySize = !name.StartsWith("vit", StringComparison.Ordinal);
        Assert.Equal(anySize ? ["height", "width"] : ["32", "32"], Dims(Onnx.ModelProto.Parser.ParseFrom(bytes).Graph.Input.Single()).Skip(2));

        foreach (var (h, w) in anySize ? [(32, 32), name.StartsWith("vgg", StringComparison.Ordinal) ? (64, 64) : (40, 48)] : new[] { (32, 32) })
        {
            using var input = Tensor.Randn([Batch, 3, h, w]);
            float[] expected;
            using (Autograd.NoGrad())
            using (var logits = model.Forward(input))
            {
                expected = logits.ToArray<float>();
            }

            var actual = OnnxRuntimeRun(bytes, input.ToArray<float>(), [Batch, 3, h, w], out var outputShape);

            Assert.Equal([Batch, 10], outputShape);
            AssertClose(expected, actual, $"{name} at {h}x{w}");
        }
    }

    /// <summary>
    /// Every kind of segmentation layer once, BN kept in some and folded in others: both heads on the basic-block
    /// backbone at output stride 8 and 16, the bottleneck backbone, and the scene pair. The ResNet-101 networks repeat
    /// ResNet-50's blocks (more of them) and cost a minute of the suite, so they are left out.
    /// </summary>
    public static TheoryData<string, bool> SegmentationModels() => new()
    {
        { "deeplabv3_resnet18", false },
        { "deeplabv3_resnet18_os16", true },
        { "pspnet_resnet18", true },
        { "pspnet_resnet18_os16", false },
        { "deeplabv3_resnet50", true },
        { "scene_student", false },
        { "scene_teacher", true },
    };

    /// <summary>
    /// Segmentation networks (dilated convs, ASPP's image pooling and bilinear upsampling, PSP's adaptive bins that
    /// do not divide the 8 x 8 map and its align-corners upsampling) on 64 x 64 inputs, same tolerance as above. The
    /// networks without adaptive bins (all but PSPNet's) also at 48 x 80 through the same file.
    /// </summary>
    [Theory]
    [MemberData(nameof(SegmentationModels))]
    public void ExportedSegmentationModelGivesDistillsLogitsInOnnxRuntime(string name, bool foldBatchNorm)
    {
        TorchRuntime.ManualSeed(11);
        using var model = Distill.Models.Segmentation.SegmentationModels.Create(name, new ModelOptions(5, 3, 64));
        RandomizeBatchNorms(model);
        model.Eval();
        var bytes = OnnxExporter.Export(model, [3, 64, 64], new OnnxExportOptions { FoldBatchNorm = foldBatchNorm });
        var anySize = !name.StartsWith("pspnet", StringComparison.Ordinal);
        var file = Onnx.ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(anySize ? ["height", "width"] : ["64", "64"], Dims(file.Graph.Input.Single()).Skip(2));
        if (anySize)
        {
            Assert.Equal(["out_height", "out_width"], Dims(file.Graph.Output.Single()).Skip(2));
        }

        foreach (var (h, w) in anySize ? [(64, 64), (48, 80)] : new[] { (64, 64) })
        {
            using var input = Tensor.Randn([Batch, 3, h, w]);
            float[] expected;
            long[] expectedShape;
            using (Autograd.NoGrad())
            using (var logits = model.Forward(input))
            {
                expected = logits.ToArray<float>();
                expectedShape = logits.Shape;
            }

            var actual = OnnxRuntimeRun(bytes, input.ToArray<float>(), [Batch, 3, h, w], out var outputShape);

            Assert.Equal(expectedShape, outputShape);
            AssertClose(expected, actual, $"{name} at {h}x{w}");
        }
    }

    [Fact]
    public void FoldingRemovesEveryBatchNormThatFollowsAConvolution()
    {
        using var model = ModelRegistry.Create("resnet8", new ModelOptions(10, 3, 32));
        var kept = Onnx.ModelProto.Parser.ParseFrom(OnnxExporter.Export(model, [3, 32, 32]));
        var folded = Onnx.ModelProto.Parser.ParseFrom(OnnxExporter.Export(model, [3, 32, 32], new OnnxExportOptions { FoldBatchNorm = true }));

        Assert.Equal(model.NamedModules().Count(m => m.Module is BatchNorm2d), kept.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.DoesNotContain(folded.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.DoesNotContain(folded.Graph.Initializer, t => t.Name.EndsWith(".running_mean", StringComparison.Ordinal));
    }

    [Fact]
    public void TheFileNamesItsInputAndOutputWithADynamicBatchHeightAndWidthAtOpset17()
    {
        using var model = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 28));
        var file = Onnx.ModelProto.Parser.ParseFrom(OnnxExporter.Export(model, [1, 28, 28]));

        Assert.Equal(17, file.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        var input = Assert.Single(file.Graph.Input);
        var output = Assert.Single(file.Graph.Output);
        Assert.Equal("input", input.Name);
        Assert.Equal("logits", output.Name);
        Assert.Equal(["batch", "1", "height", "width"], Dims(input));
        Assert.Equal(["batch", "10"], Dims(output));
        Assert.Contains(file.Graph.Initializer, t => t.Name == "layer1.0.conv1.weight");
    }

    [Fact]
    public void AModuleWithoutAnOnnxMappingIsRefusedWithItsPath()
    {
        using var model = new Sequential(new Conv2d(3, 4, 3), new Sequential(new ReLU(), new GELU()));

        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(model, [3, 8, 8]));

        Assert.Equal("1.1", e.ModulePath);
        Assert.Equal("cannot export module '1.1' (GELU): it has no ONNX mapping", e.Message);
    }

    /// <summary>The value's dimensions as the file declares them: a symbolic one by name, a fixed one by its size.</summary>
    internal static IEnumerable<string> Dims(Onnx.ValueInfoProto value) =>
        value.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Runs the file in ONNX Runtime on one thread. Returns the output's values and shape.
    /// </summary>
    internal static float[] OnnxRuntimeRun(byte[] model, float[] input, int[] shape, out long[] outputShape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input, shape))]);
        var output = results.Single(r => r.Name == "logits").AsTensor<float>();
        outputShape = [.. output.Dimensions.ToArray().Select(d => (long)d)];
        return [.. output];
    }

    /// <summary>
    /// |onnx - distill| &lt;= 1e-4 * max |distill logit| per logit. Both run the same float32 operations in different
    /// orders (ONNX Runtime's own kernels, its conv + BN fusion, the folded weights); a dot product of K terms rounds
    /// differently by about sqrt(K) * 6e-8 relative to its magnitude, at most ~4e-6 for the widest layer here
    /// (K = 4608); stacked over up to ~110 layers whose errors add at random (sqrt(110) ~ 10), that is ~4e-5 of the
    /// activations' scale, which the logits carry. 1e-4 of the largest logit leaves a factor 2.5 above that (measured on one
    /// x86-64 machine with one ORT thread: at most 4e-6, pspnet_resnet101_os16).
    /// </summary>
    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(v => Math.Abs(v));
        Assert.True(scale > 0, $"{what}: the logits are all zero; the comparison would prove nothing");
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-4 * scale, $"{what}: largest difference {worst:g3} over a largest logit of {scale:g3}");
    }

    /// <summary>Gives every batch norm running statistics and affine parameters away from 0 and 1, so keeping or folding them matters.</summary>
    internal static void RandomizeBatchNorms(Module model)
    {
        using var noGrad = Autograd.NoGrad();
        foreach (var (_, m) in model.NamedModules())
        {
            if (m is BatchNorm bn)
            {
                bn.RunningMean?.UniformInPlace(-0.2, 0.2);
                bn.RunningVar?.UniformInPlace(0.5, 1.5);
                bn.Weight?.UniformInPlace(0.5, 1.5);
                bn.Bias?.UniformInPlace(-0.2, 0.2);
            }
        }
    }
}
