using Distill.Tasks.Detection;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>
/// FCOS inference against eng/golden/fcos.py (the official inference.py's steps: threshold, top-k per level by p*c,
/// decode with the stride, clip, sqrt score, class-wise NMS, best N) on random float32 outputs for two images of
/// different sizes, with a small top-k and N so both cuts act.
/// </summary>
public sealed class FcosPostProcessTests
{
    private static readonly System.Text.Json.JsonElement Section = FcosFixture.Section("inference");

    [Fact]
    public void Detect_GivesTheReferenceBoxesScoresAndLabels_BestFirst()
    {
        using var scope = DisposeScope.Enter();
        var levels = FcosFixture.SceneLevels(Section.GetProperty("height").GetInt32(), Section.GetProperty("width").GetInt32());
        var sizes = Section.GetProperty("image_sizes").EnumerateArray().Select(s => (s[0].GetInt32(), s[1].GetInt32())).ToArray();
        var post = new FcosPostProcess
        {
            ScoreThreshold = Section.GetProperty("threshold").GetDouble(),
            PreNmsTopK = Section.GetProperty("top_n").GetInt32(),
            NmsThreshold = Section.GetProperty("nms").GetDouble(),
            DetectionsPerImage = Section.GetProperty("per_image").GetInt32(),
        };
        var detections = post.Detect(Section.Tensor("output"), levels, sizes);
        var expected = Section.GetProperty("detections").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, detections.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            expected[i].Golden("labels").AssertMatches(detections[i].Labels, $"image {i} labels", GoldenTolerance.Exact);
            expected[i].Golden("scores").AssertMatches(detections[i].Scores, $"image {i} scores");
            expected[i].Golden("boxes").AssertMatches(detections[i].Boxes, $"image {i} boxes");
            var scores = detections[i].Scores.ToArray<float>();
            Assert.Equal(scores.OrderByDescending(s => s), scores);
        }
    }

    [Fact]
    public void Detect_ImageSizesForAnotherBatch_AreAnError()
    {
        using var scope = DisposeScope.Enter();
        var levels = FcosFixture.SceneLevels(64, 64);
        var e = Assert.Throws<ArgumentException>(() => new FcosPostProcess().Detect(Tensor.Zeros([2, levels.Count, 8]), levels, [(64, 64)]));
        Assert.Contains("1 image sizes for a batch of 2", e.Message, StringComparison.Ordinal);
    }
}
