using Distill.Configs;
using Distill.Engine;
using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>The detection data sets a recipe names (detection-scenes, coco, voc-detection) built by <see cref="DatasetFactory"/>.</summary>
public sealed class DetectionDataTests : IDisposable
{
    private static readonly Lazy<GlyphPool> TestGlyphs = new(() => GlyphPool.ForSplit(SceneSplit.Test));
    private readonly string _root = Directory.CreateTempSubdirectory("distill-detection-data-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static DataConfig Data(string yaml) => Recipes.Parse($"data:\n{yaml}\nstudent:\n  model: resnet8\n", "detection.yaml").Data;

    [Fact]
    public void CocoRecipe_ReadsItsAnnFileImgDirAndSplits_AndResizesBoxesToImageSize()
    {
        var scenes = new DetectionSceneSet(TestGlyphs.Value, SceneSplit.Test, 6);
        SceneExporter.ExportDetection(scenes, Path.Combine(_root, "train"));
        SceneExporter.ExportDetection(scenes, Path.Combine(_root, "test"), count: 3);
        var data = Data($$"""
              dataset: coco
              root: {{_root}}
              img_dir: "{split}/images"
              ann_file: "{split}/annotations.json"
              train_split: train
              test_split: test
              image_size: 48
              augment: none
              batch_size: 2
            """);
        var loaders = DatasetFactory.Create(data, 1);
        Assert.Equal((6, 3, 10, 3), (loaders.Train.Dataset.Count, loaders.Test.Dataset.Count, loaders.Classes, loaders.Channels));
        Assert.Equal((48, 48), (loaders.Height, loaders.Width));
        using var scope = DisposeScope.Enter();
        var batch = loaders.Test.Epoch(0).First();
        Assert.Equal([3L, 3, 48, 48], batch.Images.Shape);
        var boxes = Assert.IsType<BoxBatch>(batch.Targets);
        for (var i = 0; i < 3; i++)
        {
            // 96 -> 48: every coordinate and every area halves (areas by 0.5 x 0.5).
            var original = (Boxes)scenes.Get(i).Target;
            Assert.Equal(original.Coordinates.Select(c => c / 2), boxes.Boxes[i].ToArray<float>());
            Assert.Equal(original.Areas.Select(a => a / 4), boxes.Areas[i].ToArray<float>());
            Assert.Equal(original.Labels.Select(l => (long)l), boxes.Labels[i].ToArray<long>());
            Assert.Equal((48, 48), boxes.ImageSizes[i]);
        }

        // The default instances file names the split: annotations/instances_test.json is looked for.
        var defaults = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(data with { AnnFile = null }, 1));
        Assert.StartsWith(Path.Combine(_root, "annotations", "instances_train.json") + ": cannot be read", defaults.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CocoRecipe_AnnotationsOfZeroWidth_AreSkipped_AndTheLoadersCarryOneNoteCountingThem()
    {
        var scenes = new DetectionSceneSet(TestGlyphs.Value, SceneSplit.Test, 3);
        SceneExporter.ExportDetection(scenes, Path.Combine(_root, "train"));
        SceneExporter.ExportDetection(scenes, Path.Combine(_root, "test"));
        var file = Path.Combine(_root, "test", "annotations.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!;
        var annotations = json["annotations"]!.AsArray();
        annotations[0]!["bbox"]![2] = 0;
        annotations[1]!["bbox"]![3] = -1.5;
        File.WriteAllText(file, json.ToJsonString());
        var data = Data($$"""
              dataset: coco
              root: {{_root}}
              img_dir: "{split}/images"
              ann_file: "{split}/annotations.json"
              train_split: train
              test_split: test
              image_size: 96
            """);

        var loaders = DatasetFactory.Create(data, 1);

        Assert.Equal([$"{file}: skipped 2 annotations whose bbox has width or height <= 0 (no extent), as mmdet and torchvision do"], loaders.Notes);
        var kept = Enumerable.Range(0, 3).Sum(i => ((Boxes)loaders.Test.Dataset.Get(i).Target).Count);
        Assert.Equal(annotations.Count - 2, kept);
    }

    [Theory]
    [InlineData("coco")]
    [InlineData("voc-detection")]
    public void RealDetectionData_WithoutImageSize_IsRefused_SayingWhy(string dataset)
    {
        var e = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(Data($"  dataset: {dataset}\n  root: {_root}"), 1));
        Assert.Equal($"data.image_size is required for dataset {dataset}: its images differ in size and a batch holds images of one size, so every image (and its boxes) is resized to image_size x image_size", e.Message);
    }

    [Fact]
    public void VocRecipe_ReadsItsSplitLists_AndHasThe20Classes()
    {
        var voc = Path.Combine(_root, "VOC2007");
        foreach (var folder in new[] { "Annotations", "JPEGImages", Path.Combine("ImageSets", "Main") })
        {
            Directory.CreateDirectory(Path.Combine(voc, folder));
        }

        foreach (var id in new[] { "a", "b", "c" })
        {
            File.WriteAllText(Path.Combine(voc, "Annotations", id + ".xml"),
                "<annotation><size><width>40</width><height>30</height></size><object><name>dog</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>10</ymax></bndbox></object></annotation>");
            using var scope = DisposeScope.Enter();
            File.WriteAllBytes(Path.Combine(voc, "JPEGImages", id + ".jpg"), ImageCodec.EncodePng(Tensor.From(new byte[30 * 40 * 3], 30, 40, 3)));
        }

        File.WriteAllText(Path.Combine(voc, "ImageSets", "Main", "trainval.txt"), "a\nb\n");
        File.WriteAllText(Path.Combine(voc, "ImageSets", "Main", "test.txt"), "c\n");
        var loaders = DatasetFactory.Create(Data($"  dataset: voc-detection\n  root: {voc}\n  image_size: 20\n  batch_size: 2"), 1);
        Assert.Equal((2, 1, 20, 3), (loaders.Train.Dataset.Count, loaders.Test.Dataset.Count, loaders.Classes, loaders.Channels));
        using (DisposeScope.Enter())
        {
            var boxes = Assert.IsType<BoxBatch>(loaders.Test.Epoch(0).First().Targets);
            Assert.Equal([0f, 0, 10, 10 * ((float)20 / 30)], boxes.Boxes[0].ToArray<float>());
        }

        var renamed = DatasetFactory.Create(Data($"  dataset: voc-detection\n  root: {voc}\n  image_size: 20\n  test_split: trainval"), 1);
        Assert.Equal(2, renamed.Test.Dataset.Count);
    }

    [Fact]
    public void DetectionScenesRecipe_Gives96x96GreyBatchesOfBoxes_FlippedOnlyInTraining_NeverCropped()
    {
        var loaders = DatasetFactory.Create(Data("  dataset: detection-scenes\n  train_subset: 8\n  test_subset: 4\n  batch_size: 8"), 5);
        Assert.Equal((10, 1, 96, 96), (loaders.Classes, loaders.Channels, loaders.Height, loaders.Width));
        var train = DetectionSceneSet.Load(SceneSplit.Train);
        using var scope = DisposeScope.Enter();
        var batch = loaders.Train.Epoch(0).First();
        Assert.Equal([8L, 1, 96, 96], batch.Images.Shape);
        var boxes = Assert.IsType<BoxBatch>(batch.Targets);
        var flipped = 0;
        var indices = batch.Indices.ToArray<long>();
        for (var i = 0; i < 8; i++)
        {
            // The subset spreads 8 of the 5 000 scenes evenly: sample j is scene j * 625.
            var original = (Boxes)train.Get((int)indices[i] * 625).Target;
            var read = boxes.Boxes[i].ToArray<float>();
            var mirrored = ((Boxes)original.FlipHorizontal()).Coordinates;
            Assert.True(read.SequenceEqual(original.Coordinates) || read.SequenceEqual(mirrored), $"batch item {i}: neither the scene's boxes nor their mirror");
            flipped += read.SequenceEqual(original.Coordinates) ? 0 : 1;
        }

        Assert.InRange(flipped, 1, 7);
        var test = Assert.IsType<BoxBatch>(loaders.Test.Epoch(0).First().Targets);
        var testSet = DetectionSceneSet.Load(SceneSplit.Test);
        Assert.Equal(((Boxes)testSet.Get(500).Target).Coordinates, test.Boxes[1].ToArray<float>());
    }
}
