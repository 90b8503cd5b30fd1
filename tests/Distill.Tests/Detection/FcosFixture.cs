using System.Text.Json;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;

namespace Distill.Tests.Detection;

/// <summary>Reads eng/golden/fcos.py's fixture: tensors, box batches and the CPU-sized levels.</summary>
internal static class FcosFixture
{
    public static JsonFixture Fixture { get; } = new("fcos.json");

    public static JsonElement Section(string name) => Fixture.Root.GetProperty(name);

    public static GoldenTensor Golden(this JsonElement e, string name) => GoldenTensor.Parse(e.GetProperty(name));

    public static Tensor Tensor(this JsonElement e, string name) => e.Golden(name).ToTensor();

    public static BoxBatch Boxes(JsonElement images, int height, int width)
    {
        var list = images.EnumerateArray().ToArray();
        var boxes = list.Select(i => i.Tensor("boxes").To(DType.Float32).Reshape(-1, 4)).ToArray();
        return new BoxBatch(boxes, [.. list.Select(i => i.Tensor("labels"))], [.. list.Select(i => i.Tensor("crowd"))],
            [.. boxes.Select(b => (b.Select(1, 2) - b.Select(1, 0)) * (b.Select(1, 3) - b.Select(1, 1)))], [.. list.Select(_ => (height, width))]);
    }

    public static FcosLevels SceneLevels(int height, int width) =>
        FcosLevels.ForInput(height, width, ["p2", "p3", "p4"], [4, 8, 16], DetectionModels.SceneScaleRanges);
}
