using Distill.Export;
using Distill.Models;
using Distill.Models.Detection;
using Distill.NN;
using Distill.Torch;
using Xunit;
using Tensor = Distill.Torch.Tensor;

namespace Distill.Tests.Export;

/// <summary>
/// The detection networks exported to ONNX: the graph's output is the network's raw [B, L, K + 5] for any batch and
/// any image size, in ONNX Runtime equal to Distill's eval-mode output; group norms go out as opset-17 operators and
/// the shared head's weights are stored once.
/// </summary>
public sealed class OnnxDetectionExportTests
{
    private const int Batch = 2;
    private const int Classes = 6;

    /// <summary>
    /// Every detection network, exported at one size and run at that size and at another (odd sizes, so the pyramid's
    /// nearest upsampling goes from ceil(n / 2) to n rather than doubling). The full-size pair at 96 x 128 still has
    /// every level P3-P7 (P7 is 1 x 1).
    /// </summary>
    public static TheoryData<string, bool, int, int, int, int> DetectionModels() => new()
    {
        { "det_scene_student", false, 96, 96, 70, 90 },
        { "det_scene_teacher", true, 96, 96, 88, 72 },
        { "fcos_resnet18_fpn", true, 96, 128, 136, 104 },
        { "fcos_resnet50_fpn", false, 128, 96, 100, 132 },
    };

    [Theory]
    [MemberData(nameof(DetectionModels))]
    public void ExportedDetectorGivesDistillsRawOutputInOnnxRuntimeAtTheExportedAndAnotherImageSize(string name, bool foldBatchNorm, int height, int width, int otherHeight, int otherWidth)
    {
        TorchRuntime.ManualSeed(13);
        using var model = Distill.Models.Detection.DetectionModels.Create(name, new ModelOptions(Classes, 3, height, width));
        Randomize(model);
        model.Eval();
        var bytes = OnnxExporter.Export(model, [3, height, width], new OnnxExportOptions { FoldBatchNorm = foldBatchNorm });

        foreach (var (h, w) in new[] { (height, width), (otherHeight, otherWidth) })
        {
            using var input = Tensor.Randn([Batch, 3, h, w]);
            float[] expected;
            long[] expectedShape;
            using (Autograd.NoGrad())
            using (var output = model.Forward(input))
            {
                expected = output.ToArray<float>();
                expectedShape = output.Shape;
            }

            var actual = OnnxExportTests.OnnxRuntimeRun(bytes, input.ToArray<float>(), [Batch, 3, h, w], out var outputShape);

            Assert.Equal([Batch, model.Levels(h, w).Count, Classes + 5], expectedShape);
            Assert.Equal(expectedShape, outputShape);
            AssertClosePerPart(expected, actual, $"{name} at {h}x{w}");
        }
    }

    [Fact]
    public void TheDetectorsFileDeclaresAnyBatchHeightAndWidthAndSymbolicLocations()
    {
        using var model = Distill.Models.Detection.DetectionModels.Create("det_scene_student", new ModelOptions(Classes, 1, 96));
        var file = Onnx.ModelProto.Parser.ParseFrom(OnnxExporter.Export(model, [1, 96, 96]));

        Assert.Equal(["batch", "1", "height", "width"], OnnxExportTests.Dims(file.Graph.Input.Single()));
        Assert.Equal(["batch", "locations", "11"], OnnxExportTests.Dims(file.Graph.Output.Single()));
        Assert.DoesNotContain(file.Graph.Node, n => n.OpType == "GroupNormalization");
        Assert.Equal(model.NamedModules().Count(m => m.Module is GroupNorm) * model.LevelNames.Count, file.Graph.Node.Count(n => n.OpType == "InstanceNormalization"));
    }

    [Fact]
    public void TheSharedHeadIsAppliedOnEveryLevelWithItsWeightsStoredOnce()
    {
        using var model = Distill.Models.Detection.DetectionModels.Create("det_scene_student", new ModelOptions(Classes, 1, 96));
        var file = Onnx.ModelProto.Parser.ParseFrom(OnnxExporter.Export(model, [1, 96, 96], new OnnxExportOptions { FoldBatchNorm = true }));
        var names = file.Graph.Initializer.Select(t => t.Name).ToList();

        Assert.Single(names, n => n == "head.cls_logits.weight");
        Assert.Single(names, n => n == "head.cls_tower.1.weight");
        Assert.DoesNotContain(names, n => n.StartsWith("head.", StringComparison.Ordinal) && n.EndsWith("weight_1", StringComparison.Ordinal));
        Assert.Equal(model.LevelNames.Count, file.Graph.Node.Count(n => n.OpType == "Conv" && n.Input[1] == "head.cls_logits.weight"));
        Assert.Equal(model.LevelNames.Count, model.LevelNames.Select((_, i) => $"head.scales.{i}.scale").Count(names.Contains));
    }

    [Fact]
    public void AGroupNormWithAffineParametersGivesTorchsOutputInOnnxRuntime()
    {
        TorchRuntime.ManualSeed(5);
        using var model = new Sequential(new Conv2d(3, 12, 3, 1, 1), new GroupNorm(3, 12, eps: 1e-3));
        Randomize(model);
        using var input = Tensor.Randn([Batch, 3, 5, 7]) * 4 + 1;
        float[] expected;
        using (Autograd.NoGrad())
        using (var output = model.Forward(input))
        {
            expected = output.ToArray<float>();
        }

        var actual = OnnxExportTests.OnnxRuntimeRun(OnnxExporter.Export(model, [3, 5, 7]), input.ToArray<float>(), [Batch, 3, 5, 7], out var shape);

        Assert.Equal([Batch, 12, 5, 7], shape);
        OnnxExportTests.AssertClose(expected, actual, "conv + group norm");
    }

    /// <summary>
    /// The class logits, the four distances and the centerness logit compared each against its own largest value (the
    /// distances are far smaller than the prior-biased logits, so one scale for all would hide their errors), with the
    /// classifiers' bound (<see cref="OnnxExportTests.AssertClose"/>): ResNet-50 plus pyramid and a 4-conv tower is ~60
    /// layers, the widest dot product 4608 terms, as there. Measured on one x86-64 machine with one ORT thread: at most
    /// 4.5e-6 of the part's scale (fcos_resnet50_fpn's distances), the group norms' InstanceNormalization included.
    /// </summary>
    private static void AssertClosePerPart(float[] expected, float[] actual, string what)
    {
        var width = Classes + 5;
        foreach (var (start, count, part) in new[] { (0, Classes, "class logits"), (Classes, 4, "distances"), (Classes + 4, 1, "centerness") })
        {
            float[] Part(float[] all) => [.. all.Where((_, i) => i % width >= start && i % width < start + count)];
            OnnxExportTests.AssertClose(Part(expected), Part(actual), $"{what}, {part}");
        }
    }

    /// <summary>Batch norms as in the classifier tests; group norms' affine parameters and the levels' scales away from 1 and 0.</summary>
    private static void Randomize(Module model)
    {
        OnnxExportTests.RandomizeBatchNorms(model);
        using var noGrad = Autograd.NoGrad();
        foreach (var (_, m) in model.NamedModules())
        {
            switch (m)
            {
                case GroupNorm norm:
                    norm.Weight?.UniformInPlace(0.5, 1.5);
                    norm.Bias?.UniformInPlace(-0.5, 0.5);
                    break;
                case Scale scale:
                    scale.Value.UniformInPlace(0.5, 2);
                    break;
            }
        }
    }
}
