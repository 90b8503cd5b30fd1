using System.Text.Json;
using Distill.Models;
using Distill.Models.Segmentation;
using Distill.NN;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Segmentation;

/// <summary>
/// The segmentation networks against our PyTorch reference definitions (eng/golden/segmentation_models.py, written
/// from torchvision's ResNet and segmentation heads and the Structured KD official PSPNet head): the same state_dict
/// keys and shapes in the same order, the same parameter counts, and with models.py's deterministic weights and input
/// rule, the same logits and tap values in eval mode for a square and a non-square input. The tolerance grows with
/// the depth (<see cref="GoldenTolerance.ForNetwork"/>), as for the classification zoo.
/// </summary>
public sealed class ModelsGoldenTests
{
    private static readonly JsonFixture Golden = new("segmentation_models.json");

    public static TheoryData<string> ForwardCases => Golden.Names(Golden.Root.GetProperty("forward"));

    /// <summary>The networks of the fixture's "forward" cases, built as the script builds them.</summary>
    internal static SegmentationModel Build(string name) => name switch
    {
        "scene_teacher" or "scene_student" => SegmentationModels.Create(name),
        "deeplab_tiny" => new DeepLabV3(TinyBottleneckBackbone(8), 5, [2, 3, 5], 16),
        "deeplab_tiny_os16" => new DeepLabV3(TinyBottleneckBackbone(16), 5, [2, 3, 5], 16),
        "pspnet_tiny" => new PspNet(new DilatedResNet(3, ResNetStem.TorchVision, 8, [8, 8, 16, 32], [1, 1, 2, 2], bottleneck: false, outputStride: 8), 5, 8),
        _ => throw new ArgumentException($"no forward case '{name}'", nameof(name)),
    };

    /// <summary>The script's TINY_BOTTLENECK backbone: torchvision stem 8 wide, planes 4/4/8/16, blocks 1/1/2/2.</summary>
    internal static DilatedResNet TinyBottleneckBackbone(int outputStride) =>
        new(3, ResNetStem.TorchVision, 8, [4, 4, 8, 16], [1, 1, 2, 2], bottleneck: true, outputStride);

    /// <summary>models.py's input rule: sin(linspace(0, 1, n) * 77) in the given shape.</summary>
    internal static Tensor RuleInput(long[] shape) => (Tensor.Linspace(0, 1, shape.Aggregate(1L, (a, b) => a * b)) * 77).Sin().Reshape(shape);

    internal static (string Key, long[] Shape)[] Keys(JsonElement golden) =>
        [.. golden.GetProperty("keys").EnumerateArray().Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(v => v.GetInt64()).ToArray()))];

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void SmallNetwork_KeysLogitsAndTaps_MatchTheReference_OnSquareAndNonSquareInputs(string name)
    {
        var golden = Golden.Root.GetProperty("forward").GetProperty(name);
        using var scope = DisposeScope.Enter();
        using var model = Build(name);
        var keys = Keys(golden);
        var own = model.StateDict();
        Assert.Equal(keys.Select(k => k.Key), own.Keys);
        Assert.Equal(golden.GetProperty("parameters").GetInt64(), model.ParameterCount());
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var k = 0; k < keys.Length; k++)
        {
            var (key, shape) = keys[k];
            Assert.Equal(shape, own[key].Shape);
            state[key] = key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? own[key].Clone() : ModelGoldenTests.Deterministic(key, shape, k);
        }

        Assert.True(model.LoadStateDict(state, strict: true).IsExact);
        model.Eval();
        var tolerance = GoldenTolerance.ForNetwork(keys, name);
        using var taps = model.TapFeatures(model.Taps.Select(t => t.Name));
        using var noGrad = Autograd.NoGrad();
        foreach (var input in golden.GetProperty("inputs").EnumerateArray())
        {
            var shape = input.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var what = $"{name} on {Tensor.FormatShape(shape)}";
            var logits = model.Forward(RuleInput(shape));
            GoldenTensor.Parse(input.GetProperty("logits")).AssertMatches(logits, $"{what} logits", tolerance);
            var expectedTaps = input.GetProperty("taps");
            Assert.Equal(expectedTaps.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), model.Taps.Select(t => t.Name).Order(StringComparer.Ordinal));
            foreach (var tap in expectedTaps.EnumerateObject())
            {
                ModelGoldenTests.AssertSummary(tap.Value, taps[tap.Name], $"{what} tap {tap.Name}", tolerance);
            }
        }
    }

    [Theory]
    [InlineData("deeplabv3_resnet50", 42_003_046)]
    [InlineData("deeplabv3_resnet101", 60_995_174)]
    [InlineData("pspnet_resnet18", 12_919_782)]
    [InlineData("pspnet_resnet101", 70_313_574)]
    public void FullSizeNetwork_With19Classes_HasTheReferencesKeysShapesAndParameterCount(string name, long parameters)
    {
        var golden = Golden.Root.GetProperty("counts").GetProperty(name);
        Assert.Equal(parameters, golden.GetProperty("parameters").GetInt64());
        using var scope = DisposeScope.Enter();
        using var model = SegmentationModels.Create(name, new ModelOptions(19, 3, 512));
        Assert.Equal(parameters, model.ParameterCount());
        var keys = Keys(golden);
        var own = model.StateDict();
        Assert.Equal(keys.Select(k => k.Key), own.Keys);
        foreach (var (key, shape) in keys)
        {
            Assert.Equal(shape, own[key].Shape);
        }
    }

    [Fact]
    public void Dropout2d_InTraining_DropsTheChannelsPyTorchDrops_ForTheSameSeed()
    {
        var golden = Golden.Root.GetProperty("dropout2d");
        using var scope = DisposeScope.Enter();
        var shape = golden.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var input = RuleInput(shape);
        using var dropout = new Dropout2d(golden.GetProperty("p").GetDouble());
        TorchRuntime.ManualSeed((ulong)golden.GetProperty("seed").GetInt64());
        var output = dropout.Forward(input);
        GoldenTensor.Parse(golden.GetProperty("output")).AssertMatches(output, "dropout2d output");
        dropout.Eval();
        Assert.Equal(input.ToArray<float>(), dropout.Forward(input).ToArray<float>());
    }
}
