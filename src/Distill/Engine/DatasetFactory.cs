using Distill.Configs;
using Distill.Models;
using Distill.NN.Data;
using Distill.NN.Data.Detection;
using Distill.NN.Data.Scenes;
using Distill.NN.Data.Segmentation;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// Builds the train and test sets and their loaders from a <see cref="DataConfig"/>. Both splits must be
/// non-empty and agree on channels, image size (unless <see cref="DataConfig.ImageSize"/> resizes them) and
/// classes; otherwise the error names each split's files and what they hold.
/// </summary>
public static class DatasetFactory
{
    /// <summary>The loaders and what the model must accept.</summary>
    /// <param name="Train">Training loader (shuffled, augmented when asked).</param>
    /// <param name="Test">Test loader.</param>
    /// <param name="Channels">Image channels.</param>
    /// <param name="Classes">Class count.</param>
    /// <param name="Height">Image height (after data.image_size's resize, if any).</param>
    /// <param name="Width">Image width (an image folder's images need not be square).</param>
    public sealed record Loaders(DataLoader Train, DataLoader Test, int Channels, int Classes, int Height, int Width)
    {
        /// <summary>The options a model for these images is built and dry-run with.</summary>
        public ModelOptions ModelOptions => new(Classes, Channels, Height, Width);

        /// <summary>The normalisation both loaders apply last (reports draw inputs back with it).</summary>
        public Normalize? Normalization { get; init; }

        /// <summary>What reading the data set left out or repaired, one line each (a COCO file's skipped zero-size boxes), for the run to print once.</summary>
        public IReadOnlyList<string> Notes { get; init; } = [];
    }

    /// <summary>Reads the data set and builds the loaders (order seeded by <paramref name="seed"/>).</summary>
    /// <param name="data">The data section.</param>
    /// <param name="seed">The order's seed.</param>
    /// <param name="device">Where the loaders put the batches (the CPU when null).</param>
    /// <param name="rank">Data-parallel: this process's rank; its training loader takes its shard of every epoch.</param>
    /// <param name="worldSize">Data-parallel: the number of ranks; data.batch_size is the global batch, each rank's batch is
    /// data.batch_size / worldSize (the caller checks that it divides). The test loader is not sharded.</param>
    /// <exception cref="DataFormatException">The files are missing, unreadable, empty, or the splits disagree.</exception>
    public static Loaders Create(DataConfig data, ulong seed, Device? device = null, int rank = 0, int worldSize = 1)
    {
        ArgumentNullException.ThrowIfNull(data);
        Split train, test;
        Normalize normalize;
        int padding;
        switch (data.Dataset)
        {
            case "fashion-mnist":
            case "idx":
                var directory = data.Root ?? (data.Dataset == "idx" ? throw MissingRoot(data.Dataset) : IdxReader.FashionMnistDirectory);
                train = Idx(directory, "train");
                test = Idx(directory, "t10k");
                normalize = Normalize.FashionMnist;
                padding = 2;
                break;
            case "cifar10":
            case "cifar100":
                var folder = data.Root ?? throw MissingRoot(data.Dataset);
                var ten = data.Dataset == "cifar10";
                string[] trainFiles = ten ? [.. Enumerable.Range(1, 5).Select(i => Path.Combine(folder, $"data_batch_{i}.bin"))] : [Path.Combine(folder, "train.bin")];
                string[] testFiles = [Path.Combine(folder, ten ? "test_batch.bin" : "test.bin")];
                train = Split.Of(ten ? CifarReader.LoadCifar10(trainFiles) : CifarReader.LoadCifar100(trainFiles), string.Join(", ", trainFiles));
                test = Split.Of(ten ? CifarReader.LoadCifar10(testFiles) : CifarReader.LoadCifar100(testFiles), testFiles[0]);
                normalize = Normalize.Cifar100;
                padding = 4;
                break;
            case "folder":
                var root = data.Root ?? throw MissingRoot(data.Dataset);
                train = Folder(FolderSplit(root, "train"), resized: data.ImageSize > 0);
                test = Folder(FolderSplit(root, "test"), resized: data.ImageSize > 0);
                normalize = Normalize.ImageNet;
                padding = Math.Max(1, Math.Min(train.Height, train.Width) / 8);
                break;
            case "scenes":
                // The synthetic segmentation scenes: Fashion-MNIST glyphs pasted on a 64x64 canvas, exact masks, made lazily.
                var glyphs = data.Root ?? IdxReader.FashionMnistDirectory;
                train = Scenes(SceneSplit.Train, glyphs);
                test = Scenes(SceneSplit.Test, glyphs);
                normalize = new Normalize([SegmentationSceneSet.Mean], [SegmentationSceneSet.Std]);
                padding = train.Height / 8;
                break;
            case "segmentation-folder":
                var segRoot = data.Root ?? throw MissingRoot(data.Dataset);
                var layout = FolderLayout(data);
                var (trainSplit, testSplit) = Splits(data);
                train = SegmentationSplit(segRoot, layout, trainSplit);
                test = SegmentationSplit(segRoot, layout, testSplit);
                normalize = layout.Channels == 1 ? new Normalize([SegmentationSceneSet.Mean], [SegmentationSceneSet.Std]) : Normalize.ImageNet;
                padding = 0;
                break;
            case "detection-scenes":
                // The synthetic detection scenes: the same glyphs on a 96x96 canvas, boxes of the visible pixels, made lazily.
                var detectionGlyphs = data.Root ?? IdxReader.FashionMnistDirectory;
                train = DetectionScenes(SceneSplit.Train, detectionGlyphs);
                test = DetectionScenes(SceneSplit.Test, detectionGlyphs);
                normalize = new Normalize([DetectionSceneSet.Mean], [DetectionSceneSet.Std]);
                padding = 0;
                break;
            case "coco":
            case "voc-detection":
                // Real detection data: images of many sizes, and the loader stacks one size, so data.image_size resizes them all.
                var detectionRoot = data.Root ?? throw MissingRoot(data.Dataset);
                if (data.ImageSize <= 0)
                {
                    throw new DataFormatException($"data.image_size is required for dataset {data.Dataset}: its images differ in size and a batch holds images of one size, so every image (and its boxes) is resized to image_size x image_size");
                }

                var coco = data.Dataset == "coco";
                var trainName = data.TrainSplit.Length > 0 ? data.TrainSplit : coco ? "train2017" : "trainval";
                var testName = data.TestSplit.Length > 0 ? data.TestSplit : coco ? "val2017" : "test";
                train = coco ? Coco(detectionRoot, data, trainName) : Voc(detectionRoot, trainName, data.ImageSize);
                test = coco ? Coco(detectionRoot, data, testName) : Voc(detectionRoot, testName, data.ImageSize);
                normalize = Normalize.ImageNet;
                padding = 0;
                break;
            default:
                throw new DataFormatException($"data.dataset '{data.Dataset}' is not supported by `distill train` ({string.Join(", ", DatasetCatalog.Names)})");
        }

        // Segmentation folders hold images of several sizes (the models take any size); every other set has one.
        var sizesVary = data.Dataset == "segmentation-folder";
        CheckSplitsAgree(train, test, data.ImageSize > 0 || sizesVary);
        var trainSet = Subset(train.Set, data.TrainSubset);
        var testSet = Subset(test.Set, data.TestSubset);
        var (height, width) = data.ImageSize > 0 ? (data.ImageSize, data.ImageSize) : data.CropSize > 0 ? (data.CropSize, data.CropSize) : (train.Height, train.Width);
        var resize = data.ImageSize > 0 ? new Resize(data.ImageSize, data.ImageSize) : null;
        ITransform[] trainTransforms =
        [
            .. resize is null ? [] : new ITransform[] { resize },
            .. data.ScaleRange is [var low, var high] ? [new RandomScale(low, high)] : Array.Empty<ITransform>(),
            .. data.CropSize > 0 ? [new RandomCrop(data.CropSize) { PadIfNeeded = true, CategoryMaxRatio = data.CatMaxRatio }]
                : data.Augment && padding > 0 ? [new RandomCrop(height, width, padding)] : Array.Empty<ITransform>(),
            .. data.Augment && data.Flip ? [new RandomHorizontalFlip()] : Array.Empty<ITransform>(),
            normalize,
        ];
        ITransform testTransform = resize is null ? normalize : new Compose(resize, normalize);
        var testBatch = data.TestBatchSize > 0 ? data.TestBatchSize : sizesVary ? 1 : Math.Max(data.BatchSize, 256);
        return new Loaders(
            new DataLoader(trainSet, data.BatchSize / worldSize, shuffle: true, seed: seed, transform: trainTransforms.Length == 1 ? normalize : new Compose(trainTransforms), rank: rank, worldSize: worldSize)
            {
                Device = device ?? Device.Cpu,
            },
            new DataLoader(testSet, testBatch, transform: testTransform) { Device = device ?? Device.Cpu },
            train.Channels,
            train.Set.Classes.Count,
            height,
            width)
        {
            Normalization = normalize,
            Notes = [.. train.Notes, .. test.Notes],
        };
    }

    private static DataFormatException MissingRoot(string dataset) => new(DatasetCatalog.MissingRoot(dataset));

    private static Split Idx(string directory, string prefix)
    {
        var images = IdxReader.FindFile(directory, $"{prefix}-images-idx3-ubyte");
        return Split.Of(IdxReader.Load(images, IdxReader.FindFile(directory, $"{prefix}-labels-idx1-ubyte"), IdxReader.FashionMnistClasses), images);
    }

    private static Split Scenes(SceneSplit split, string glyphs)
    {
        var set = SegmentationSceneSet.Load(split, directory: glyphs);
        return new Split(set, $"{glyphs} ({split.ToString().ToLowerInvariant()} scenes)", set.Options.Channels, set.Options.Height, set.Options.Width);
    }

    private static Split DetectionScenes(SceneSplit split, string glyphs)
    {
        var set = DetectionSceneSet.Load(split, directory: glyphs);
        return new Split(set, $"{glyphs} ({split.ToString().ToLowerInvariant()} detection scenes)", set.Options.Channels, set.Options.Height, set.Options.Width);
    }

    /// <summary>A COCO split: data.ann_file and data.img_dir under the root with {split} replaced (sizes are data.image_size's).</summary>
    private static Split Coco(string root, DataConfig data, string split)
    {
        var annotations = Path.Combine(root, (data.AnnFile ?? "annotations/instances_{split}.json").Replace("{split}", split, StringComparison.Ordinal));
        var images = Path.Combine(root, (data.ImageDir ?? "{split}").Replace("{split}", split, StringComparison.Ordinal));
        var set = CocoDetection.Open(annotations, images);
        return new Split(set, $"{annotations} with images in {images}", 3, data.ImageSize, data.ImageSize)
        {
            Notes = set.SkippedEmptyBoxes == 0 ? [] : [$"{annotations}: skipped {set.SkippedEmptyBoxes} annotation{(set.SkippedEmptyBoxes == 1 ? string.Empty : "s")} whose bbox has width or height <= 0 (no extent), as mmdet and torchvision do"],
        };
    }

    private static Split Voc(string root, string split, int size) =>
        new(VocDetection.Open(root, split), $"{root} ({split})", 3, size, size);

    /// <summary>The preset's layout with the recipe's overrides.</summary>
    private static SegmentationFolderOptions FolderLayout(DataConfig data)
    {
        var layout = SegmentationFolderOptions.ForLayout(data.Preset);
        return layout with
        {
            Classes = data.Classes > 0 ? data.Classes : layout.Classes,
            ClassNames = data.Classes > 0 && layout.ClassNames is { } names && names.Count != data.Classes ? null : layout.ClassNames,
            ImageDirectory = data.ImageDir ?? layout.ImageDirectory,
            LabelDirectory = data.LabelDir ?? layout.LabelDirectory,
            ImageSuffix = data.ImageSuffix ?? layout.ImageSuffix,
            LabelSuffix = data.LabelSuffix ?? layout.LabelSuffix,
            Mapping = data.LabelMap == "preset" ? layout.Mapping : LabelMapping.FromName(data.LabelMap),
            ReduceZeroLabel = data.ReduceZeroLabel switch { "true" => true, "false" => false, _ => layout.ReduceZeroLabel },
        };
    }

    private static (string Train, string Test) Splits(DataConfig data)
    {
        var ade = data.Preset == "ade20k";
        return (data.TrainSplit.Length > 0 ? data.TrainSplit : ade ? "training" : "train", data.TestSplit.Length > 0 ? data.TestSplit : ade ? "validation" : "val");
    }

    private static Split SegmentationSplit(string root, SegmentationFolderOptions layout, string split)
    {
        SegmentationFolder set;
        try
        {
            set = SegmentationFolder.Open(root, layout, split);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException($"data (dataset segmentation-folder, preset options): {e.Message}");
        }

        var first = set.Count > 0 ? set.Get(0).Image : null;
        return new Split(set, $"{root} ({split})", layout.Channels, first?.Height ?? 0, first?.Width ?? 0);
    }

    private static string FolderSplit(string root, string split)
    {
        var path = Path.Combine(root, split);
        var val = Path.Combine(root, "val");
        return Directory.Exists(path) ? path
            : split == "test" && Directory.Exists(val) ? val
            : throw new DataFormatException($"{path}: no such folder (dataset folder reads {DatasetCatalog.RootLayout("folder")}{(split == "test" ? "; val/ is read when test/ is absent" : string.Empty)})");
    }

    private static Split Folder(string path, bool resized)
    {
        // Every class folder holds an image (or the constructor says which does not); the first one sets the split's size,
        // and any other size is an error naming its file, unless data.image_size resizes them all.
        var images = new ImageFolderDataset(path);
        var first = images.Get(0).Image;
        return new Split(resized ? images : new SameSizeImages(images, first.Height, first.Width), path, first.Channels, first.Height, first.Width);
    }

    private static IImageDataset Subset(IImageDataset set, int count)
    {
        if (count <= 0 || count >= set.Count)
        {
            return set;
        }

        // IDX and CIFAR files are in random order: their first samples are a fair subset. A folder is sorted by class,
        // so its subset is spread evenly over the files to keep every class.
        return set is InMemoryImageDataset memory ? memory.Take(count)
            : new IndexedImages(set, [.. Enumerable.Range(0, count).Select(i => (int)((long)i * set.Count / count))]);
    }

    private static void CheckSplitsAgree(Split train, Split test, bool resized)
    {
        if (train.Set.Count == 0)
        {
            throw new DataFormatException($"{train.Source}: the training set is empty (0 images)");
        }

        if (test.Set.Count == 0)
        {
            throw new DataFormatException($"{test.Source}: the test set is empty (0 images)");
        }

        if (train.Channels != test.Channels || (!resized && (train.Height != test.Height || train.Width != test.Width)))
        {
            throw new DataFormatException(
                $"the training images ({train.Source}) are {train.Describe()} but the test images ({test.Source}) are {test.Describe()} (channels x height x width); both splits must have one size{(resized ? string.Empty : ", or set data.image_size to resize both")}");
        }

        if (!train.Set.Classes.SequenceEqual(test.Set.Classes))
        {
            throw new DataFormatException(
                $"the training classes ({train.Source}: {string.Join(", ", train.Set.Classes)}) differ from the test classes ({test.Source}: {string.Join(", ", test.Set.Classes)}); labels would not mean the same class");
        }
    }

    /// <summary>One split: its samples, where they came from (for messages) and the size of its images.</summary>
    private sealed record Split(IImageDataset Set, string Source, int Channels, int Height, int Width)
    {
        /// <summary>What reading the split left out, one line each.</summary>
        public IReadOnlyList<string> Notes { get; init; } = [];

        public static Split Of(InMemoryImageDataset set, string source) => new(set, source, set.Channels, set.Height, set.Width);

        public string Describe() => $"{Channels}x{Height}x{Width}";
    }

    /// <summary>An image folder whose images must all have the first one's size: another size names the file.</summary>
    private sealed class SameSizeImages(ImageFolderDataset images, int height, int width) : IImageDataset
    {
        public int Count => images.Count;

        public IReadOnlyList<string> Classes => images.Classes;

        public int LabelOf(int index) => images.LabelOf(index);

        public Sample Get(int index)
        {
            var sample = images.Get(index);
            return sample.Image.Height == height && sample.Image.Width == width ? sample
                : throw new DataFormatException(
                    $"{images.PathOf(index)}: {sample.Image.Height}x{sample.Image.Width} pixels, but {images.PathOf(0)} is {height}x{width}; every image must have one size, or set data.image_size to resize them all");
        }
    }

    /// <summary>Some samples of a data set, renumbered from 0.</summary>
    private sealed class IndexedImages(IImageDataset set, int[] indices) : IImageDataset
    {
        public int Count => indices.Length;

        public IReadOnlyList<string> Classes => set.Classes;

        public int LabelOf(int index) => set.LabelOf(indices[index]);

        public Sample Get(int index) => set.Get(indices[index]) with { Index = index };
    }
}
