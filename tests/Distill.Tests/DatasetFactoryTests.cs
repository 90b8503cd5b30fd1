using System.Text.RegularExpressions;
using Distill.Configs;
using Distill.Engine;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>The data section of a recipe, from the YAML keys to the loaders, on files the tests write.</summary>
public sealed class DatasetFactoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-datasets-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Idx_CanonicalRawFileNames_AreRead()
    {
        WriteIdx("train", 20, 12, 12);
        WriteIdx("t10k", 10, 12, 12);
        var loaders = DatasetFactory.Create(new DataConfig { Dataset = "idx", Root = _root }, 0);
        Assert.Equal((20, 10, 1, 12, 12, 10), (loaders.Train.Dataset.Count, loaders.Test.Dataset.Count, loaders.Channels, loaders.Height, loaders.Width, loaders.Classes));
    }

    [Theory]
    [InlineData("train", "training")]
    [InlineData("t10k", "test")]
    public void EmptySplit_IsAnErrorNamingItsFile(string emptyPrefix, string split)
    {
        WriteIdx("train", emptyPrefix == "train" ? 0 : 20, 12, 12);
        WriteIdx("t10k", emptyPrefix == "t10k" ? 0 : 10, 12, 12);
        var e = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(new DataConfig { Dataset = "idx", Root = _root }, 0));
        Assert.Equal($"{Path.Combine(_root, $"{emptyPrefix}-images-idx3-ubyte")}: the {split} set is empty (0 images)", e.Message);
    }

    [Fact]
    public void TrainAndTestOfDifferentSizes_IsAnErrorNamingBothSizes_UnlessImageSizeResizesBoth()
    {
        WriteIdx("train", 20, 12, 12);
        WriteIdx("t10k", 10, 14, 14);
        var e = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(new DataConfig { Dataset = "idx", Root = _root }, 0));
        Assert.Contains($"the training images ({Path.Combine(_root, "train-images-idx3-ubyte")}) are 1x12x12 but the test images ({Path.Combine(_root, "t10k-images-idx3-ubyte")}) are 1x14x14", e.Message, StringComparison.Ordinal);
        Assert.Contains("set data.image_size", e.Message, StringComparison.Ordinal);

        var resized = DatasetFactory.Create(new DataConfig { Dataset = "idx", Root = _root, ImageSize = 16, BatchSize = 8 }, 0);
        Assert.Equal((16, 16), (resized.Height, resized.Width));
        using var scope = DisposeScope.Enter();
        Assert.Equal([8L, 1, 16, 16], resized.Train.Epoch(0).First().Images.Shape);
        Assert.Equal([10L, 1, 16, 16], resized.Test.Epoch(0).First().Images.Shape);
    }

    [Fact]
    public void Folder_ReadsTrainAndTestClassFolders_AsRgb()
    {
        WriteFolder("train", 8, 8, ("cat", 3), ("dog", 2));
        WriteFolder("test", 8, 8, ("cat", 1), ("dog", 1));
        var loaders = DatasetFactory.Create(new DataConfig { Dataset = "folder", Root = _root, BatchSize = 5 }, 0);
        Assert.Equal((5, 2, 3, 2, 8, 8), (loaders.Train.Dataset.Count, loaders.Test.Dataset.Count, loaders.Channels, loaders.Classes, loaders.Height, loaders.Width));
        using var scope = DisposeScope.Enter();
        var batch = loaders.Train.Epoch(0).Single();
        Assert.Equal([5L, 3, 8, 8], batch.Images.Shape);
        Assert.Equal([0L, 0, 0, 1, 1], batch.Labels.ToArray<long>().Order().ToArray());
    }

    [Fact]
    public void Folder_TrainSubset_KeepsEveryClass()
    {
        WriteFolder("train", 8, 8, ("a", 4), ("b", 4));
        WriteFolder("test", 8, 8, ("a", 1), ("b", 1));
        var loaders = DatasetFactory.Create(new DataConfig { Dataset = "folder", Root = _root, TrainSubset = 2 }, 0);
        var set = loaders.Train.Dataset;
        Assert.Equal([0, 1], Enumerable.Range(0, set.Count).Select(set.LabelOf));
        Assert.Equal(1, set.Get(1).Index);
    }

    [Fact]
    public void Folder_ImageOfAnotherSize_IsAnErrorNamingTheFileAndBothSizes()
    {
        // Several odd images, so that batches still in flight fail too: the first error comes out, not an AggregateException.
        WriteFolder("train", 8, 8, ("a", 2));
        foreach (var name in new[] { "x", "y", "z" })
        {
            WritePng(Path.Combine(_root, "train", "a", $"{name}.png"), 10, 12, 7);
        }

        WriteFolder("test", 8, 8, ("a", 1));
        var loaders = DatasetFactory.Create(new DataConfig { Dataset = "folder", Root = _root, BatchSize = 1, Augment = false }, 3);
        var e = Assert.Throws<DataFormatException>(() =>
        {
            foreach (var batch in loaders.Test.Epoch(0).Concat(loaders.Train.Epoch(0)))
            {
                batch.Images.Dispose();
            }
        });
        Assert.Matches($"^{Regex.Escape(Path.Combine(_root, "train", "a"))}/[xyz]\\.png: 10x12 pixels, but {Regex.Escape(Path.Combine(_root, "train", "a", "0.png"))} is 8x8; every image must have one size, or set data.image_size to resize them all$", e.Message);

        var resized = DatasetFactory.Create(new DataConfig { Dataset = "folder", Root = _root, BatchSize = 5, ImageSize = 6 }, 0);
        using var scope = DisposeScope.Enter();
        Assert.Equal([5L, 3, 6, 6], resized.Train.Epoch(0).Single().Images.Shape);
    }

    [Fact]
    public void Folder_TestClassesDiffer_OrTestFolderMissing_AreErrorsNamingThePaths()
    {
        WriteFolder("train", 8, 8, ("cat", 1), ("dog", 1));
        var missing = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(new DataConfig { Dataset = "folder", Root = _root }, 0));
        Assert.StartsWith($"{Path.Combine(_root, "test")}: no such folder", missing.Message, StringComparison.Ordinal);

        WriteFolder("test", 8, 8, ("cat", 1), ("cow", 1));
        var e = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(new DataConfig { Dataset = "folder", Root = _root }, 0));
        Assert.Contains($"the training classes ({Path.Combine(_root, "train")}: cat, dog) differ from the test classes ({Path.Combine(_root, "test")}: cat, cow)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AugmentCrop_NeverFlips_CropFlipDoes_NoneLeavesImagesAlone()
    {
        // Every image is bright in its 4 left columns: a crop with padding 2 keeps the left side brighter, a flip swaps the sides.
        WriteIdx("train", 64, 12, 12, (_, x) => x < 4 ? (byte)250 : (byte)0);
        WriteIdx("t10k", 4, 12, 12);
        (int Flipped, int Shifted) Count(string augment)
        {
            var data = Recipes.Parse($"data:\n  dataset: idx\n  root: {_root}\n  augment: {augment}\nstudent:\n  model: resnet8\n").Data;
            var loaders = DatasetFactory.Create(data with { BatchSize = 64 }, 7);
            using var scope = DisposeScope.Enter();
            var pixels = loaders.Train.Epoch(0).Single().Images.ToArray<float>();
            int flipped = 0, shifted = 0;
            for (var i = 0; i < 64; i++)
            {
                float Column(int x) => Enumerable.Range(0, 12).Sum(y => pixels[(i * 144) + (y * 12) + x]);
                flipped += Column(0) + Column(1) + Column(2) < Column(9) + Column(10) + Column(11) ? 1 : 0;
                shifted += Column(0) != Column(3) || Column(4) != Column(11) ? 1 : 0;
            }

            return (flipped, shifted);
        }

        Assert.Equal(0, Count("crop").Flipped);
        Assert.NotEqual(0, Count("crop").Shifted);
        Assert.InRange(Count("crop+flip").Flipped, 16, 48);
        Assert.Equal(Count("crop+flip"), Count("true"));
        Assert.Equal((0, 0), Count("none"));
        Assert.Equal((0, 0), Count("false"));
    }

    [Fact]
    public void Augment_ReadsCropCropFlipNoneAndTheOldBooleans_AndRoundTrips()
    {
        DataConfig Data(string augment) => Recipes.Parse($"data:\n  augment: {augment}\nstudent:\n  model: resnet8\n").Data;
        Assert.Equal((true, false), (Data("crop").Augment, Data("crop").Flip));
        Assert.Equal((true, true), (Data("crop+flip").Augment, Data("crop+flip").Flip));
        Assert.Equal((true, true), (Data("true").Augment, Data("true").Flip));
        Assert.False(Data("none").Augment);
        Assert.False(Data("false").Augment);
        foreach (var augment in new[] { "crop", "crop+flip", "none" })
        {
            var config = Recipes.Parse($"data:\n  augment: {augment}\nstudent:\n  model: resnet8\n");
            Assert.Contains($"  augment: \"{augment}\"\n", ConfigWriter.ToYaml(config), StringComparison.Ordinal);
            Assert.Equal(config.Data, Recipes.Parse(ConfigWriter.ToYaml(config)).Data);
        }

        var e = Assert.Throws<ConfigException>(() => Recipes.Parse("data:\n  augment: flip\nstudent:\n  model: resnet8\n", "recipe.yaml"));
        Assert.StartsWith("recipe.yaml:2: data.augment is 'flip'; allowed: crop+flip, crop, none", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("idx")]
    [InlineData("folder")]
    [InlineData("cifar10")]
    public void DatasetWithoutRoot_IsAnErrorAtTheRecipeLine(string dataset)
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse($"data:\n  batch_size: 8\n  dataset: {dataset}\nstudent:\n  model: resnet8\n", "recipe.yaml"));
        Assert.StartsWith($"recipe.yaml:3: data.root is required for dataset {dataset} (", e.Message, StringComparison.Ordinal);
    }

    private void WriteIdx(string prefix, int count, int height, int width, Func<int, int, byte>? pixel = null)
    {
        var pixels = new byte[count * height * width];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = pixel?.Invoke(i / width % height, i % width) ?? (byte)(i * 7);
        }

        TinyIdx.WritePair(
            Path.Combine(_root, $"{prefix}-images-idx3-ubyte"), Path.Combine(_root, $"{prefix}-labels-idx1-ubyte"),
            pixels, [.. Enumerable.Range(0, count).Select(i => (byte)(i % 10))], height, width, gzip: false);
    }

    private void WriteFolder(string split, int height, int width, params (string Class, int Images)[] classes)
    {
        foreach (var (name, images) in classes)
        {
            for (var i = 0; i < images; i++)
            {
                WritePng(Path.Combine(_root, split, name, $"{i}.png"), height, width, (byte)(40 * i));
            }
        }
    }

    private static void WritePng(string path, int height, int width, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var scope = DisposeScope.Enter();
        var pixels = Enumerable.Range(0, height * width * 3).Select(i => (byte)(value + i)).ToArray();
        File.WriteAllBytes(path, ImageCodec.EncodePng(Tensor.From(pixels, height, width, 3)));
    }
}
