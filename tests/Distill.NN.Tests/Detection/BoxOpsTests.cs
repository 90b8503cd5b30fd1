using Distill.NN.Detection;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests.Detection;

/// <summary>
/// The box ops against eng/golden/fcos.py's reference written from torchvision's semantics (box_iou,
/// generalized_box_iou, the CPU nms kernel, batched_nms by the coordinate-offset trick) on random boxes, and cases
/// whose answer is known by hand.
/// </summary>
public sealed class BoxOpsTests
{
    private static readonly JsonFixture Golden = new("fcos.json");

    private static JsonFixtureCase Case(string name) => new(Golden.Root.GetProperty("box_ops").GetProperty(name));

    [Fact]
    public void IouAndGeneralizedIou_MatchTheReference_OnRandomBoxes()
    {
        using var scope = DisposeScope.Enter();
        var c = Case("pairwise");
        var a = c.Input("a");
        var b = c.Input("b");
        c.Golden("iou").AssertMatches(BoxOps.Iou(a, b), "IoU", GoldenTolerance.Float64);
        c.Golden("giou").AssertMatches(BoxOps.GeneralizedIou(a, b), "GIoU", GoldenTolerance.Float64);
    }

    [Theory]
    [InlineData("nms_05")]
    [InlineData("nms_03")]
    [InlineData("batched_06")]
    [InlineData("batched_04")]
    public void Nms_KeepsTheReferenceIndices_InTheReferenceOrder(string name)
    {
        using var scope = DisposeScope.Enter();
        var c = Case(name);
        var threshold = c.Element.GetProperty("threshold").GetDouble();
        var keep = c.Element.TryGetProperty("categories", out _)
            ? BoxOps.BatchedNms(c.Input("boxes"), c.Input("scores"), c.Input("categories"), threshold)
            : BoxOps.Nms(c.Input("boxes"), c.Input("scores"), threshold);
        Assert.Equal(c.Golden("keep").Values.Select(v => (long)v), keep.ToArray<long>());
    }

    [Fact]
    public void Nms_AnIouEqualToTheThreshold_DoesNotSuppress_OneAbove_Does()
    {
        using var scope = DisposeScope.Enter();
        // IoU of (0,0,4,1) and (2,0,4,1) is 2 / 4 = 0.5 exactly.
        var boxes = Tensor.From(new float[] { 0, 0, 4, 1, 2, 0, 4, 1 }, 2, 4);
        var scores = Tensor.From(new float[] { 0.9f, 0.8f }, 2);
        Assert.Equal([0L, 1L], BoxOps.Nms(boxes, scores, 0.5).ToArray<long>());
        Assert.Equal([0L], BoxOps.Nms(boxes, scores, 0.49).ToArray<long>());
    }

    [Fact]
    public void BatchedNms_BoxesOfAnotherCategory_AreNotSuppressed_AndTheOrderIsByScore()
    {
        using var scope = DisposeScope.Enter();
        var boxes = Tensor.From(new float[] { 0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 10, 10 }, 3, 4);
        var scores = Tensor.From(new float[] { 0.5f, 0.9f, 0.7f }, 3);
        var categories = Tensor.From(new long[] { 0, 1, 0 }, 3);
        Assert.Equal([1L, 2L], BoxOps.BatchedNms(boxes, scores, categories, 0.5).ToArray<long>());
        Assert.Equal([1L], BoxOps.Nms(boxes, scores, 0.5).ToArray<long>());
    }

    [Fact]
    public void Nms_NoBoxes_KeepsNothing()
    {
        using var scope = DisposeScope.Enter();
        Assert.Empty(BoxOps.Nms(Tensor.Zeros([0, 4]), Tensor.Zeros([0]), 0.5).ToArray<long>());
    }

    [Fact]
    public void ClipToImage_ClampsXToTheWidth_AndYToTheHeight()
    {
        using var scope = DisposeScope.Enter();
        var clipped = BoxOps.ClipToImage(Tensor.From(new float[] { -3, -1, 70, 50 }, 1, 4), 40, 64);
        Assert.Equal([0f, 0f, 64f, 40f], clipped.ToArray<float>());
    }

    [Fact]
    public void BadShapes_AreNamedWithTheShapes()
    {
        using var scope = DisposeScope.Enter();
        var e = Assert.Throws<ArgumentException>(() => BoxOps.Iou(Tensor.Zeros([3, 5]), Tensor.Zeros([2, 4])));
        Assert.Contains("[3, 5]", e.Message, StringComparison.Ordinal);
        var s = Assert.Throws<ArgumentException>(() => BoxOps.Nms(Tensor.Zeros([3, 4]), Tensor.Zeros([2]), 0.5));
        Assert.Contains("scores must be [3]", s.Message, StringComparison.Ordinal);
    }

    private sealed class JsonFixtureCase(System.Text.Json.JsonElement element)
    {
        public System.Text.Json.JsonElement Element { get; } = element;

        public GoldenTensor Golden(string name) => GoldenTensor.Parse(Element.GetProperty(name));

        public Tensor Input(string name) => Golden(name).ToTensor();
    }
}
