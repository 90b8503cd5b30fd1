using Distill.Models.Detection;
using Distill.NN;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>
/// The FCOS networks against eng/golden/fcos.py's reference definitions (official fcos.py head and fpn.py pyramid on
/// the torchvision-named ResNet of segmentation_models.py): the full-size networks' parameter counts and state_dict
/// keys and shapes; the CPU-sized pair's keys, and with models.py's deterministic weights and input rule, the output
/// and every tap for a square and a non-square input.
/// </summary>
public sealed class FcosModelTests
{
    private static readonly System.Text.Json.JsonElement Forward = FcosFixture.Section("forward");

    [Theory]
    [InlineData("fcos_resnet50_fpn")]
    [InlineData("fcos_resnet18_fpn")]
    public void FullSize_ParameterCountAndKeys_MatchTheReference(string name)
    {
        var golden = FcosFixture.Section("counts").GetProperty(name);
        using var scope = DisposeScope.Enter();
        using var model = DetectionModels.Create(name);
        var keys = Segmentation.ModelsGoldenTests.Keys(golden);
        var own = model.StateDict();
        Assert.Equal(keys.Select(k => k.Key), own.Keys);
        Assert.All(keys, k => Assert.Equal(k.Shape, own[k.Key].Shape));
        Assert.Equal(golden.GetProperty("parameters").GetInt64(), model.ParameterCount());
        Assert.Equal(["p3", "p4", "p5", "p6", "p7"], model.LevelNames);
        Assert.Equal([8, 16, 32, 64, 128], model.Strides);
    }

    [Theory]
    [InlineData("det_scene_teacher")]
    [InlineData("det_scene_student")]
    public void ScenePair_OutputAndTaps_MatchTheReference_OnSquareAndNonSquareInputs(string name)
    {
        var golden = Forward.GetProperty(name);
        using var scope = DisposeScope.Enter();
        using var model = DetectionModels.Create(name);
        var keys = Segmentation.ModelsGoldenTests.Keys(golden);
        var own = model.StateDict();
        Assert.Equal(keys.Select(k => k.Key), own.Keys);
        Assert.Equal(golden.GetProperty("parameters").GetInt64(), model.ParameterCount());
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var k = 0; k < keys.Length; k++)
        {
            var (key, shape) = keys[k];
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
            var output = model.Forward(Segmentation.ModelsGoldenTests.RuleInput(shape));
            Assert.Equal(model.Levels((int)shape[2], (int)shape[3]).Count, output.Shape[1]);
            ModelGoldenTests.AssertSummary(input.GetProperty("output"), output, $"{what} output", tolerance);
            var expectedTaps = input.GetProperty("taps");
            Assert.Equal(expectedTaps.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), model.Taps.Select(t => t.Name).Order(StringComparer.Ordinal));
            foreach (var tap in expectedTaps.EnumerateObject())
            {
                ModelGoldenTests.AssertSummary(tap.Value, taps[tap.Name], $"{what} tap {tap.Name}", tolerance);
            }
        }
    }

    [Fact]
    public void ScenePair_PublishesTheContractTaps_AndTheDetectionCatalogListsEveryNetwork()
    {
        Assert.Equal(["det_scene_student", "det_scene_teacher", "fcos_resnet18_fpn", "fcos_resnet50_fpn"], DetectionModels.Names.Select(n => n.Name));
        using var scope = DisposeScope.Enter();
        using var model = DetectionModels.Create("det_scene_teacher");
        var names = model.Taps.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var tap in new[] { "stem", "stage1", "stage4", "stage4.preact", "fpn.p2", "fpn.p3", "fpn.p4", "cls_logits.p2", "cls_tower.p4", "reg_tower.p3" })
        {
            Assert.Contains(tap, names);
        }

        var shapes = model.DryRun(1, 96, 96).ToDictionary(t => t.Tap, t => t.Shape);
        Assert.Equal([1L, 10, 24, 24], shapes["cls_logits.p2"]);
        Assert.Equal([1L, 32, 6, 6], shapes["fpn.p4"]);
        var e = Assert.Throws<KeyNotFoundException>(() => DetectionModels.Create("fcos_nope"));
        Assert.Contains("det_scene_student", e.Message, StringComparison.Ordinal);
    }
}
