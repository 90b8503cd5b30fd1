using Distill.Models.Detection;
using Distill.NN;
using Distill.NN.Checkpoints;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>
/// ImageNet weights of a torchvision ResNet (keys conv1.weight ... layer4.*, fc.*) load into an FCOS network's
/// backbone key for key: written here from another network's backbone plus an fc, read back through the file.
/// </summary>
public sealed class FcosBackboneLoadingTests
{
    [Fact]
    public void LoadImageNetBackbone_LoadsEveryBackboneKey_SkipsFc_AndLeavesThePyramidAndHead()
    {
        using var scope = DisposeScope.Enter();
        using var source = DetectionModels.Create("det_scene_student");
        var state = source.Backbone.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone(), StringComparer.Ordinal);
        state["fc.weight"] = Tensor.Zeros([10, 64]);
        state["fc.bias"] = Tensor.Zeros([10]);
        var path = Path.Combine(Path.GetTempPath(), $"fcos-backbone-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(path, state);
            using var model = DetectionModels.Create("det_scene_student");
            var head = model.StateDict()["head.cls_logits.weight"].Clone();
            model.LoadImageNetBackbone(path);
            var own = model.StateDict();
            foreach (var (key, value) in source.Backbone.StateDict())
            {
                Assert.Equal(value.To(DType.Float64).Reshape(-1).ToArray<double>(), own["backbone." + key].To(DType.Float64).Reshape(-1).ToArray<double>());
            }

            Assert.Equal(head.ToArray<float>(), own["head.cls_logits.weight"].ToArray<float>());

            state.Remove("layer1.0.conv1.weight");
            SafeTensors.Save(path, state);
            var e = Assert.Throws<StateDictMismatchException>(() => model.LoadImageNetBackbone(path));
            Assert.Contains("layer1.0.conv1.weight", e.Message, StringComparison.Ordinal);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
