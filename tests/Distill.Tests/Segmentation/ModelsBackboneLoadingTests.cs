using Distill.Models.Segmentation;
using Distill.NN;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Segmentation;

/// <summary>
/// Loading a torchvision ResNet's ImageNet weights into a segmentation network's backbone: the fixture
/// segmentation_backbone.safetensors is a small torchvision-layout ResNet with its fc, written by
/// eng/golden/segmentation_models.py, which also ran the dilated backbone with those weights.
/// </summary>
public sealed class ModelsBackboneLoadingTests
{
    private static readonly JsonFixture Golden = new("segmentation_models.json");

    private static string FilePath => FixtureFiles.PathOf("segmentation_backbone.safetensors");

    [Fact]
    public void LoadImageNetBackbone_MapsEveryKeyUnderBackbone_SkipsFc_LeavesTheHeads_AndGivesTheReferenceStages()
    {
        var golden = Golden.Root.GetProperty("backbone");
        using var scope = DisposeScope.Enter();
        using var model = ModelsGoldenTests.Build(golden.GetProperty("model").GetString()!);
        var headBefore = model.StateDict()["classifier.4.weight"].Clone();
        var result = model.LoadImageNetBackbone(FilePath);
        Assert.True(result.IsExact);

        using var file = SafeTensors.Load(FilePath);
        Assert.Contains("fc.weight", file.Tensors.Keys);
        var own = model.StateDict();
        foreach (var (key, value) in file.Tensors.Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)))
        {
            Assert.Equal(value.To(DType.Float64).Reshape(-1).ToArray<double>(), own["backbone." + key].To(DType.Float64).Reshape(-1).ToArray<double>());
        }

        Assert.Equal(file.Tensors.Count - 2, own.Keys.Count(k => k.StartsWith("backbone.", StringComparison.Ordinal)));
        Assert.Equal(headBefore.ToArray<float>(), own["classifier.4.weight"].ToArray<float>());

        model.Eval();
        var keys = ModelsGoldenTests.Keys(golden);
        var tolerance = GoldenTolerance.ForNetwork(keys, "the loaded backbone");
        using var taps = model.TapFeatures(golden.GetProperty("taps").EnumerateObject().Select(p => p.Name));
        using var noGrad = Autograd.NoGrad();
        model.Forward(ModelsGoldenTests.RuleInput([.. golden.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64())]));
        foreach (var tap in golden.GetProperty("taps").EnumerateObject())
        {
            ModelGoldenTests.AssertSummary(tap.Value, taps[tap.Name], $"loaded backbone tap {tap.Name}", tolerance);
        }
    }

    [Fact]
    public void LoadImageNetBackbone_AMissingKey_IsNamedWithTheSource_AndNothingIsLoaded()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelsGoldenTests.Build("deeplab_tiny");
        var before = model.StateDict()["backbone.conv1.weight"].Clone();
        using var file = SafeTensors.Load(FilePath);
        var state = file.Tensors.Where(kv => kv.Key != "layer1.0.conv1.weight").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var e = Assert.Throws<StateDictMismatchException>(() => model.LoadImageNetBackbone(state, "resnet.safetensors"));
        Assert.Contains("missing keys (1): layer1.0.conv1.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("resnet.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Equal(["layer1.0.conv1.weight"], e.Result.MissingKeys);
        Assert.Equal(before.ToArray<float>(), model.StateDict()["backbone.conv1.weight"].ToArray<float>());
    }

    [Fact]
    public void LoadImageNetBackbone_AnUnexpectedKey_IsNamed()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelsGoldenTests.Build("deeplab_tiny");
        using var file = SafeTensors.Load(FilePath);
        var state = new Dictionary<string, Tensor>(file.Tensors, StringComparer.Ordinal) { ["layer5.0.conv1.weight"] = Tensor.Zeros([1]) };
        var e = Assert.Throws<StateDictMismatchException>(() => model.LoadImageNetBackbone(state));
        Assert.Contains("unexpected keys (1): layer5.0.conv1.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadImageNetBackbone_OfAnotherWidth_NamesTheKeyAndBothShapes()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelsGoldenTests.Build("pspnet_tiny");
        var e = Assert.Throws<StateDictMismatchException>(() => model.LoadImageNetBackbone(FilePath));
        Assert.Contains("layer1.0.conv1.weight: checkpoint [4, 8, 1, 1], model [8, 8, 3, 3]", e.Message, StringComparison.Ordinal);
        Assert.Contains(FilePath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadImageNetBackbone_WithoutNumBatchesTracked_AsOlderTorchvisionFiles_Loads()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelsGoldenTests.Build("deeplab_tiny");
        using var file = SafeTensors.Load(FilePath);
        var state = file.Tensors.Where(kv => !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var result = model.LoadImageNetBackbone(state);
        Assert.NotEmpty(result.MissingKeys);
        Assert.All(result.MissingKeys, k => Assert.EndsWith(".num_batches_tracked", k, StringComparison.Ordinal));
        Assert.Equal(file.Tensors["layer4.1.conv2.weight"].ToArray<float>(), model.StateDict()["backbone.layer4.1.conv2.weight"].ToArray<float>());
    }

    [Fact]
    public void LoadImageNetBackbone_FromAMissingFile_NamesThePath()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelsGoldenTests.Build("deeplab_tiny");
        var path = Path.Combine(Path.GetTempPath(), "no-such-resnet.safetensors");
        var e = Assert.Throws<CheckpointFormatException>(() => model.LoadImageNetBackbone(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
