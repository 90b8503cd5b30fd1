using System.Security.Cryptography;
using System.Text.Json;
using Distill.NN.Data;
using Distill.NN.Data.Detection;
using Distill.NN.Data.Scenes;
using Distill.Testing;
using Xunit;

namespace Distill.NN.Tests.Detection;

public sealed class DetectionSceneSetTests : IDisposable
{
    private static readonly Lazy<InMemoryImageDataset> FashionTest = new(() => IdxReader.LoadFashionMnist(train: false));
    private static readonly JsonFixture Golden = new("detection_scenes.json");
    private readonly string _root = Directory.CreateTempSubdirectory("distill-detection-scenes-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<int> GoldenCases()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Golden.Root.GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    private static DetectionSceneSet TestScenes(int count = 2_000) =>
        new(new GlyphPool(FashionTest.Value, 0, FashionTest.Value.Count), SceneSplit.Test, count);

    private static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes)[..8]);

    // eng/golden/detection_scenes.py renders the scenes with PyTorch (torch.Generator().manual_seed, F.interpolate) and
    // labels them independently with numpy; the boxes, labels, crowd flags and areas are integers there and must agree exactly.
    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Scenes_EqualThePyTorchRendering_BoxesLabelsCrowdAndAreasExactly_ImagesWithin1e6(int item)
    {
        var golden = Golden.Root[item];
        var index = golden.GetProperty("index").GetInt32();
        var scene = TestScenes().Scene(index);
        var boxes = DetectionSceneSet.BoxesOf(scene);
        Assert.Equal(golden.GetProperty("boxes").EnumerateArray().SelectMany(b => b.EnumerateArray().Select(v => v.GetSingle())), boxes.Coordinates);
        Assert.Equal(golden.GetProperty("labels").EnumerateArray().Select(v => v.GetInt32()), boxes.Labels);
        Assert.Equal(golden.GetProperty("crowd").EnumerateArray().Select(v => v.GetBoolean()), boxes.Crowd);
        Assert.Equal(golden.GetProperty("areas").EnumerateArray().Select(v => v.GetSingle()), boxes.Areas);
        Assert.Equal((96, 96), (boxes.Height, boxes.Width));
        if (golden.GetProperty("image").ValueKind == JsonValueKind.Object)
        {
            // Pixels are glyph values or clipped noise computed by the same float32 operations: any difference beyond
            // float32 rounding of values in [0, 1] (6e-8) would be a different draw, so 1e-6 leaves room only for rounding.
            var expected = golden.GetProperty("image").GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(expected.Length, scene.Image.Data.Length);
            Assert.All(expected.Zip(scene.Image.Data), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-6f, $"{p.First} vs {p.Second}"));
        }

        var image = new byte[scene.Image.Data.Length * 4];
        Buffer.BlockCopy(scene.Image.Data, 0, image, 0, image.Length);
        Assert.Equal(golden.GetProperty("image_sha").GetString(), Hash(image));
        Assert.Equal(golden.GetProperty("instances_sha").GetString(), Hash(scene.Instances));
    }

    [Fact]
    public void GoldenCases_IncludeACrowdRemnant()
    {
        Assert.Contains(Golden.Root.EnumerateArray(), c => c.GetProperty("crowd").EnumerateArray().Any(v => v.GetBoolean()));
    }

    // First 8 bytes of SHA-256 of the float32 image and the instance map, printed by eng/golden/detection_scenes.py.
    [Theory]
    [InlineData(0, "0fdadf906b4ac7f0", "c27db323c851a227")]
    [InlineData(3, "5e428fdbf44ab6e4", "31d87ebd617cb9a2")]
    [InlineData(1999, "0ae87a510e0cb519", "c907616f19ced82d")]
    public void PinnedScenes_OfBaseSeed1_KeepTheirImageAndInstanceHashes(int index, string image, string instances)
    {
        var scene = TestScenes().Scene(index);
        var bytes = new byte[scene.Image.Data.Length * 4];
        Buffer.BlockCopy(scene.Image.Data, 0, bytes, 0, bytes.Length);
        Assert.Equal((image, instances), (Hash(bytes), Hash(scene.Instances)));
    }

    [Fact]
    public void Set_Is96x96Grey_With1To5ObjectsOf16To48Px_10Classes_AndSplitSizesPerSpec()
    {
        var set = TestScenes(200);
        Assert.Equal(10, set.Classes.Count);
        Assert.Equal([5_000, 1_000, 2_000], [SegmentationSceneSet.DefaultCount(SceneSplit.Train), SegmentationSceneSet.DefaultCount(SceneSplit.Val), SegmentationSceneSet.DefaultCount(SceneSplit.Test)]);
        var crowd = 0;
        for (var i = 0; i < set.Count; i++)
        {
            var scene = set.Scene(i);
            Assert.InRange(scene.Requested, 1, 5);
            Assert.All(scene.Objects, o => Assert.InRange(o.Side, 16, 48));
            var sample = set.Get(i);
            Assert.Equal((1, 96, 96), (sample.Image.Channels, sample.Image.Height, sample.Image.Width));
            var boxes = Assert.IsType<Boxes>(sample.Target);
            Assert.True(boxes.Count <= scene.Objects.Count);
            for (var k = 0; k < boxes.Count; k++)
            {
                var (x1, y1, x2, y2) = boxes.Box(k);
                Assert.True(x1 >= 0 && y1 >= 0 && x2 <= 96 && y2 <= 96 && x2 > x1 && y2 > y1);
                Assert.True(boxes.Areas[k] <= (x2 - x1) * (y2 - y1));
                Assert.InRange(boxes.Labels[k], 0, 9);
                crowd += boxes.Crowd[k] ? 1 : 0;
            }
        }

        Assert.True(crowd > 0, "200 scenes hold no crowd remnant");
    }

    [Fact]
    public void Crowd_MarksRemnantsUnder30PercentOfTheirAlphaOrUnder20Px_AtTheBoundaries_AndWhollyCoveredObjectsHaveNoBox()
    {
        // A 20x20 instance map made by hand: object 1 shows 10 of 30 alpha pixels (33 %, but under 20 px: crowd), object 2
        // 25 of 100 (25 %: crowd), object 3 40 of 40, object 4 none (no box), object 5 exactly 30 of 100 (30 %: not crowd).
        var instances = new byte[400];
        void Fill(int id, int top, int rows, int cols)
        {
            for (var y = top; y < top + rows; y++)
            {
                for (var x = 0; x < cols; x++)
                {
                    instances[(y * 20) + x] = (byte)id;
                }
            }
        }

        Fill(1, 0, 1, 10);
        Fill(2, 2, 5, 5);
        Fill(3, 8, 4, 10);
        Fill(5, 13, 3, 10);
        var objects = Enumerable.Range(0, 5).Select(c => new SceneObject(c, c, 16, 0, 0)).ToList();
        var scene = new Scene(new Image(1, 20, 20, new float[400]), new Mask(20, 20, new byte[400]), instances, objects, 5, [30, 100, 40, 50, 100]);
        var boxes = DetectionSceneSet.BoxesOf(scene);
        Assert.Equal([0f, 0, 10, 1, 0, 2, 5, 7, 0, 8, 10, 12, 0, 13, 10, 16], boxes.Coordinates);
        Assert.Equal([0, 1, 2, 4], boxes.Labels);
        Assert.Equal([true, true, false, false], boxes.Crowd);
        Assert.Equal([10f, 25, 40, 30], boxes.Areas);
    }

    [Fact]
    public void Crowd_OnGeneratedScenes_FollowsTheRuleRecomputedFromTheInstanceMapAndAlphaAreas()
    {
        var set = TestScenes(300);
        var remnants = 0;
        for (var i = 0; i < set.Count; i++)
        {
            var scene = set.Scene(i);
            var boxes = DetectionSceneSet.BoxesOf(scene);
            var k = 0;
            for (var n = 0; n < scene.Objects.Count; n++)
            {
                var visible = scene.Instances.Count(v => v == n + 1);
                Assert.True(visible <= scene.AlphaAreas[n]);
                if (visible == 0)
                {
                    continue;
                }

                var remnant = visible * 10 < scene.AlphaAreas[n] * 3;
                remnants += remnant ? 1 : 0;
                Assert.Equal(remnant || visible < 20, boxes.Crowd[k]);
                Assert.Equal(visible, boxes.Areas[k]);
                k++;
            }

            Assert.Equal(k, boxes.Count);
        }

        Assert.True(remnants > 0, "300 scenes hold no remnant under 30 % of its alpha area");
    }

    [Fact]
    public void Export_WritesPngsAndCocoJson_ThatCocoDetectionReadsBackToTheSameBoxes()
    {
        var set = TestScenes(12);
        SceneExporter.ExportDetection(set, _root);
        var coco = CocoDetection.Open(Path.Combine(_root, SceneExporter.DetectionAnnotationFile), Path.Combine(_root, "images"), channels: 1);
        Assert.Equal(12, coco.Count);
        Assert.Equal(IdxReader.FashionMnistClasses, coco.Classes);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), coco.CategoryIds);
        for (var i = 0; i < coco.Count; i++)
        {
            var original = (Boxes)set.Get(i).Target;
            var sample = coco.Get(i);
            var read = (Boxes)sample.Target;
            Assert.Equal(original.Coordinates, read.Coordinates);
            Assert.Equal(original.Labels, read.Labels);
            Assert.Equal(original.Crowd, read.Crowd);
            Assert.Equal(original.Areas, read.Areas);
            Assert.Equal(SceneExporter.ToBytes(set.Get(i).Image), SceneExporter.ToBytes(sample.Image));
        }
    }
}
