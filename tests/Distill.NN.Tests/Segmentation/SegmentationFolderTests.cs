using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.NN.Data.Segmentation;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests.Segmentation;

/// <summary>Folder pairing, label conventions (Cityscapes ids, reduce_zero_label, tables, palettes) and each bad input's message.</summary>
public sealed class SegmentationFolderTests : IDisposable
{
    private static readonly Lazy<InMemoryImageDataset> FashionTest = new(() => IdxReader.LoadFashionMnist(train: false));
    private readonly string _root = Directory.CreateTempSubdirectory("distill-segfolder-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string At(string relative) => Path.Combine(_root, relative);

    private void WriteImage(string relative, int height, int width, int channels = 3)
    {
        var pixels = Enumerable.Range(0, height * width * channels).Select(i => (byte)(i * 7)).ToArray();
        using var t = Tensor.From(pixels, height, width, channels);
        Write(relative, ImageCodec.EncodePng(t));
    }

    private void WriteLabel(string relative, byte[] values, int height, int width, IReadOnlyList<byte>? palette = null) =>
        Write(relative, LabelPng.Encode(values, height, width, palette));

    private void Write(string relative, byte[] bytes)
    {
        var path = At(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    private SegmentationFolder Plain(int classes = 4) => SegmentationFolder.Open(_root, new SegmentationFolderOptions { Classes = classes });

    [Fact]
    public void Cityscapes_PairsCityFoldersBySuffix_AndMapsLabelIdsToTrainIds()
    {
        // label ids: unlabeled 0, ego vehicle 1, road 7, sidewalk 8, parking 9, car 26, bicycle 33, 34 and 255 (not ids).
        byte[] ids = [0, 1, 7, 8, 9, 26, 33, 34, 255];
        byte[] trainIds = [255, 255, 0, 1, 255, 13, 18, 255, 255];
        foreach (var (city, frame) in new[] { ("aachen", "aachen_000000_000019"), ("bremen", "bremen_000001_000019") })
        {
            WriteImage($"leftImg8bit/train/{city}/{frame}_leftImg8bit.png", 3, 3);
            WriteLabel($"gtFine/train/{city}/{frame}_gtFine_labelIds.png", ids, 3, 3);
            WriteLabel($"gtFine/train/{city}/{frame}_gtFine_instanceIds.png", new byte[9], 3, 3); // other gtFine files are not labels here
        }

        var set = SegmentationFolder.Open(_root, SegmentationFolderOptions.Cityscapes, "train");
        Assert.Equal(2, set.Count);
        Assert.Equal(19, set.Classes.Count);
        Assert.EndsWith("aachen_000000_000019_gtFine_labelIds.png", set.LabelPathOf(0), StringComparison.Ordinal);
        var sample = set.Get(1);
        Assert.Equal(trainIds, Assert.IsType<Mask>(sample.Target).Data);
        Assert.Equal((3, 3, 3), (sample.Image.Channels, sample.Image.Height, sample.Image.Width));
    }

    [Fact]
    public void ReduceZeroLabel_MakesZeroIgnored_ShiftsTheRestDown_AndKeeps255()
    {
        WriteImage("images/a.png", 1, 4);
        WriteLabel("labels/a.png", [0, 1, 150, 255], 1, 4);
        var set = SegmentationFolder.Open(_root, new SegmentationFolderOptions { Classes = 150, ReduceZeroLabel = true });
        Assert.Equal([255, 0, 149, 255], set.ReadMask(0).Data);
    }

    [Fact]
    public void ExplicitTable_MapsListedValues_AndIgnoresTheRest()
    {
        WriteImage("images/a.png", 1, 4);
        WriteLabel("labels/a.png", [10, 20, 30, 0], 1, 4);
        var options = new SegmentationFolderOptions { Classes = 2, Mapping = LabelMapping.FromTable(new Dictionary<int, int> { [10] = 0, [20] = 1 }) };
        Assert.Equal([0, 1, 255, 255], SegmentationFolder.Open(_root, options).ReadMask(0).Data);
    }

    [Fact]
    public void VocLayout_ReadsTheSplitFile_AndPalettePngsAsIndices()
    {
        WriteImage("JPEGImages/2007_000032.jpg", 2, 2);
        WriteImage("JPEGImages/2007_000039.jpg", 2, 2);
        WriteLabel("SegmentationClass/2007_000032.png", [0, 1, 15, 255], 2, 2, VocPalette.Colors);
        WriteLabel("SegmentationClass/2007_000039.png", [0, 0, 0, 0], 2, 2, VocPalette.Colors);
        Write("ImageSets/Segmentation/val.txt", "2007_000032\n\n"u8.ToArray());

        var set = SegmentationFolder.Open(_root, SegmentationFolderOptions.Voc, "val");
        Assert.Equal(1, set.Count);
        Assert.Equal([0, 1, 15, 255], Assert.IsType<Mask>(set.Get(0).Target).Data);
    }

    [Fact]
    public void Open_ReadsNoFile_ASampleIsReadWhenAskedFor()
    {
        WriteImage("images/a.png", 2, 2);
        WriteLabel("labels/a.png", [0, 1, 2, 3], 2, 2);
        Write("images/b.png", [1, 2, 3]);
        Write("labels/b.png", [1, 2, 3]);
        var set = Plain();
        Assert.Equal(2, set.Count);
        Assert.Equal([0, 1, 2, 3], Assert.IsType<Mask>(set.Get(0).Target).Data);
        var e = Assert.Throws<DataFormatException>(() => set.Get(1));
        Assert.Contains(At("images/b.png"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LabelValueAtOrAboveK_NotIgnore_IsAnErrorNamingTheFileTheValueAndK()
    {
        WriteImage("images/a.png", 2, 2);
        WriteLabel("labels/a.png", [0, 255, 3, 1], 2, 2);
        var e = Assert.Throws<DataFormatException>(() => Plain(classes: 3).Get(0));
        Assert.Equal(
            $"{At("labels/a.png")}: label value 3 at row 1, column 0 is not a class index: the data set has K = 3 classes (0 to 2) and 255 for ignored pixels",
            e.Message);
    }

    [Fact]
    public void ImageAndLabelOfDifferentSizes_IsAnErrorNamingBothFilesAndSizes()
    {
        WriteImage("images/a.png", 4, 5);
        WriteLabel("labels/a.png", new byte[12], 3, 4);
        var e = Assert.Throws<DataFormatException>(() => Plain().Get(0));
        Assert.Equal(
            $"{At("labels/a.png")}: the label is 3x4 but its image {At("images/a.png")} is 4x5 (height x width); a label map covers its image pixel for pixel",
            e.Message);
    }

    [Fact]
    public void PalettePngWithAnotherPalette_IsAnErrorNamingTheFileAndEntry_UnlessThePaletteIsIgnored()
    {
        var palette = VocPalette.Colors;
        palette[3 * 2] = 7; // entry 2 becomes (7, 128, 0)
        WriteImage("images/a.png", 1, 3);
        WriteLabel("labels/a.png", [0, 1, 2], 1, 3, palette);

        var checkedSet = SegmentationFolder.Open(_root, new SegmentationFolderOptions { Classes = 21, ExpectedPalette = VocPalette.Colors });
        var e = Assert.Throws<DataFormatException>(() => checkedSet.Get(0));
        Assert.StartsWith($"{At("labels/a.png")}: unexpected palette: entry 2 is (7, 128, 0) but the expected palette has (0, 128, 0)", e.Message, StringComparison.Ordinal);

        var ignoring = SegmentationFolder.Open(_root, new SegmentationFolderOptions { Classes = 21 });
        Assert.Equal([0, 1, 2], ignoring.ReadMask(0).Data);
    }

    [Fact]
    public void ImageWithoutLabel_IsAnErrorNamingTheImageAndTheExpectedLabel()
    {
        WriteImage("images/a.png", 1, 1);
        WriteImage("images/sub/b.png", 1, 1);
        WriteLabel("labels/a.png", [0], 1, 1);
        var e = Assert.Throws<DataFormatException>(() => Plain());
        Assert.Equal($"{At("images/sub/b.png")}: no label file for this image: expected {Path.Combine(At("labels"), "sub/b.png")}", e.Message);
    }

    [Fact]
    public void LabelWithoutImage_IsAnErrorNamingTheLabel()
    {
        WriteImage("images/a.png", 1, 1);
        WriteLabel("labels/a.png", [0], 1, 1);
        WriteLabel("labels/c.png", [0], 1, 1);
        WriteLabel("labels/d.png", [0], 1, 1);
        var e = Assert.Throws<DataFormatException>(() => Plain());
        Assert.Equal($"{At("labels/c.png")}: no image for this label: expected {Path.Combine(At("images"), "c.png")} (1 more labels have no image)", e.Message);
    }

    [Fact]
    public void EmptyImageFolder_AndMissingFolders_AreErrorsNamingThePath()
    {
        var missing = Assert.Throws<DataFormatException>(() => Plain());
        Assert.Equal($"{At("images")}: no such folder (the split's image folder)", missing.Message);

        Directory.CreateDirectory(At("images"));
        Directory.CreateDirectory(At("labels"));
        Write("images/notes.txt", [1]);
        var empty = Assert.Throws<DataFormatException>(() => Plain());
        Assert.Equal($"{At("images")}: no images (no file under it ends with '.png')", empty.Message);
    }

    [Fact]
    public void SplitFileListingAMissingImage_IsAnErrorNamingTheLine()
    {
        WriteImage("JPEGImages/a.jpg", 1, 1);
        WriteLabel("SegmentationClass/a.png", [0], 1, 1);
        Write("ImageSets/Segmentation/train.txt", "a\nb\n"u8.ToArray());
        var e = Assert.Throws<DataFormatException>(() => SegmentationFolder.Open(_root, SegmentationFolderOptions.Voc, "train"));
        Assert.StartsWith($"{At("ImageSets/Segmentation/train.txt")}:2: 'b' is listed but its image", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loader_BatchesScaledPaddedCropsOfFoldersOfMixedSizes_ReproduciblyFromItsSeed()
    {
        using var scope = DisposeScope.Enter();
        var sizes = new[] { (6, 8), (10, 7), (5, 5) };
        for (var i = 0; i < sizes.Length; i++)
        {
            var (h, w) = sizes[i];
            WriteImage($"images/{i}.png", h, w);
            WriteLabel($"labels/{i}.png", Enumerable.Range(0, h * w).Select(v => (byte)(v % 3 == 0 ? 255 : v % 5)).ToArray(), h, w);
        }

        var set = Plain(classes: 5);
        var transform = new Compose(
            new RandomScale(0.5, 1.5), new RandomCrop(8, 8, padding: 0) { PadIfNeeded = true }, new RandomHorizontalFlip(), new Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]));
        long[] Masks() => new DataLoader(set, 3, shuffle: true, seed: 11, transform: transform).Epoch(0)
            .SelectMany(b =>
            {
                var masks = Assert.IsType<MaskBatch>(b.Targets).Masks;
                Assert.Equal([3L, 8, 8], masks.Shape);
                Assert.Equal([3L, 3, 8, 8], b.Images.Shape);
                return masks.ToArray<long>();
            })
            .ToArray();

        var first = Masks();
        Assert.All(first, v => Assert.True(v is >= 0 and < 5 or 255, $"mask value {v}"));
        Assert.Equal(first, Masks());
    }

    [Fact]
    public void Loader_SurfacesABadLabelAsTheReadersErrorNamingTheFile()
    {
        WriteImage("images/a.png", 2, 2);
        WriteLabel("labels/a.png", [0, 1, 2, 9], 2, 2);
        var e = Assert.Throws<DataFormatException>(() => new DataLoader(Plain(classes: 3), 1).Epoch(0).ToList());
        Assert.StartsWith($"{At("labels/a.png")}: label value 9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LayoutAndMappingNames_GiveThePresets_AndAnUnknownNameListsTheKnownOnes()
    {
        Assert.Equal(SegmentationFolderOptions.Cityscapes.LabelSuffix, SegmentationFolderOptions.ForLayout("Cityscapes").LabelSuffix);
        Assert.True(SegmentationFolderOptions.ForLayout("ade20k").ReduceZeroLabel);
        Assert.Equal(new SegmentationFolderOptions(), SegmentationFolderOptions.ForLayout("custom"));
        var e = Assert.Throws<ArgumentException>(() => SegmentationFolderOptions.ForLayout("coco"));
        Assert.StartsWith("unknown segmentation folder layout 'coco'; known: custom, cityscapes, voc, ade20k, scenes", e.Message, StringComparison.Ordinal);
        Assert.Same(LabelMapping.Cityscapes, LabelMapping.FromName("cityscapes"));
        Assert.Same(LabelMapping.None, LabelMapping.FromName("None"));
        Assert.Throws<ArgumentException>(() => LabelMapping.FromName("voc"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ExportedScenes_ReadBackThroughSegmentationFolder_WithEqualMasksAndImages(bool palette)
    {
        var scenes = new SegmentationSceneSet(new GlyphPool(FashionTest.Value, 0, FashionTest.Value.Count), SceneSplit.Test, 4);
        SceneExporter.Export(scenes, _root, labelPalette: palette ? VocPalette.Colors : null);

        var options = SegmentationFolderOptions.Scenes with { ExpectedPalette = palette ? VocPalette.Colors : null };
        var set = SegmentationFolder.Open(_root, options);
        Assert.Equal(4, set.Count);
        for (var i = 0; i < 4; i++)
        {
            var scene = scenes.Scene(i);
            var sample = set.Get(i);
            Assert.Equal(scene.Mask.Data, Assert.IsType<Mask>(sample.Target).Data);
            Assert.Equal(SceneExporter.ToBytes(scene.Image), SceneExporter.ToBytes(sample.Image));
            Assert.Equal(palette ? 3 : 0, LabelPng.Read(set.LabelPathOf(i)).ColorType);
        }
    }
}
