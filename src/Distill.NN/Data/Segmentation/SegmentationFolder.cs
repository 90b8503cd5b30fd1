namespace Distill.NN.Data.Segmentation;

/// <summary>
/// A segmentation split from image and label folders as users have them (Cityscapes, VOC, ADE20K or any folder pair):
/// samples are the images, paired with their label PNGs by stem (<see cref="SegmentationFolderOptions"/>), each a
/// <see cref="Mask"/> target. Opening lists and pairs the files and checks that every image has a label and every label
/// an image; a sample's files are read when it is asked for (images by OpenCV, labels as stored indices by
/// <see cref="LabelPng"/>), and then its palette, size and values are checked, each problem an error naming the file.
/// </summary>
public sealed class SegmentationFolder : IImageDataset
{
    private readonly (string Image, string Label)[] _pairs;
    private readonly byte[]? _expectedPalette;

    private SegmentationFolder((string Image, string Label)[] pairs, IReadOnlyList<string> classes, SegmentationFolderOptions options)
    {
        _pairs = pairs;
        Classes = classes;
        Options = options;
        _expectedPalette = options.ExpectedPalette?.ToArray();
    }

    /// <inheritdoc />
    public int Count => _pairs.Length;

    /// <inheritdoc />
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The options it was opened with.</summary>
    public SegmentationFolderOptions Options { get; }

    /// <summary>
    /// Opens a split: lists the images under root/<see cref="SegmentationFolderOptions.ImageDirectory"/> (or those the split
    /// file names) and pairs each with its label. No image or label is read yet.
    /// </summary>
    /// <param name="root">The data set's root folder.</param>
    /// <param name="options">Layout and label conventions.</param>
    /// <param name="split">Replaces "{split}" in the folders and the split file (e.g. "train", "val").</param>
    /// <exception cref="DataFormatException">A folder or the split file is missing, no images are found, an image has no
    /// label or a label no image; the message names the path.</exception>
    /// <exception cref="ArgumentException">Inconsistent options (class count, channels, a "{split}" with no split given).</exception>
    public static SegmentationFolder Open(string root, SegmentationFolderOptions options, string? split = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(options);
        var classes = ClassList(options);
        if (options.Channels is not (1 or 3))
        {
            throw new ArgumentException($"channels must be 1 (grey) or 3 (RGB); got {options.Channels}", nameof(options));
        }

        if (string.IsNullOrEmpty(options.ImageSuffix) || string.IsNullOrEmpty(options.LabelSuffix))
        {
            throw new ArgumentException("the image and label suffixes must not be empty (e.g. \".png\")", nameof(options));
        }

        var images = Resolve(root, options.ImageDirectory, split, "image folder");
        var labels = Resolve(root, options.LabelDirectory, split, "label folder");
        if (!Directory.Exists(root))
        {
            throw new DataFormatException($"{root}: no such folder (the segmentation data set's root)");
        }

        foreach (var (folder, what) in new[] { (images, "image folder"), (labels, "label folder") })
        {
            if (!Directory.Exists(folder))
            {
                throw new DataFormatException($"{folder}: no such folder (the split's {what})");
            }
        }

        var pairs = options.SplitFile is null
            ? PairFolders(images, labels, options)
            : PairListed(Resolve(root, options.SplitFile, split, "split file"), images, labels, options);
        return new SegmentationFolder(pairs, classes, options);
    }

    /// <summary>The image file of sample <paramref name="index"/>.</summary>
    public string ImagePathOf(int index) => _pairs[index].Image;

    /// <summary>The label file of sample <paramref name="index"/>.</summary>
    public string LabelPathOf(int index) => _pairs[index].Label;

    /// <summary>Folders have no per-image class; stratified sampling does not apply.</summary>
    public int LabelOf(int index) =>
        throw new NotSupportedException("a segmentation folder labels pixels, not images: it has no per-sample class");

    /// <inheritdoc />
    /// <exception cref="DataFormatException">A file cannot be read, the label's palette is not the expected one, the image and
    /// label sizes differ, or a label value is neither a class index nor 255; the message names the file.</exception>
    public Sample Get(int index)
    {
        var (imagePath, labelPath) = _pairs[index];
        var image = ImageFolderDataset.ReadImage(imagePath, Options.Channels);
        var mask = ReadMask(index);
        if (image.Height != mask.Height || image.Width != mask.Width)
        {
            throw new DataFormatException(
                $"{labelPath}: the label is {mask.Height}x{mask.Width} but its image {imagePath} is {image.Height}x{image.Width} (height x width); a label map covers its image pixel for pixel");
        }

        return new Sample(image, mask, index);
    }

    /// <summary>The class mask of sample <paramref name="index"/> (mapped, reduced and checked) without reading its image.</summary>
    /// <exception cref="DataFormatException">The label cannot be read, its palette is not the expected one, or a value is neither a class index nor 255.</exception>
    public Mask ReadMask(int index)
    {
        var path = _pairs[index].Label;
        var label = LabelPng.Read(path);
        CheckPalette(path, label);
        var values = label.Indices;
        Options.Mapping.Apply(values);
        if (Options.ReduceZeroLabel)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = values[i] switch { 0 => Mask.Ignore, Mask.Ignore => Mask.Ignore, var v => (byte)(v - 1) };
            }
        }

        var k = Classes.Count;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] >= k && values[i] != Mask.Ignore)
            {
                var steps = new List<string>();
                if (Options.Mapping != LabelMapping.None)
                {
                    steps.Add($"the {Options.Mapping.Name} label mapping");
                }

                if (Options.ReduceZeroLabel)
                {
                    steps.Add("reduce_zero_label");
                }

                var after = steps.Count > 0 ? $" (after {string.Join(" and ", steps)})" : string.Empty;
                throw new DataFormatException(
                    $"{path}: label value {values[i]}{after} at row {i / label.Width}, column {i % label.Width} is not a class index: the data set has K = {k} classes (0 to {k - 1}) and 255 for ignored pixels");
            }
        }

        return new Mask(label.Height, label.Width, values);
    }

    private void CheckPalette(string path, LabelImage label)
    {
        if (_expectedPalette is null || label.Palette is null)
        {
            return;
        }

        var entries = Math.Min(label.Palette.Length, _expectedPalette.Length) / 3;
        for (var i = 0; i < entries; i++)
        {
            var (r, g, b) = (label.Palette[3 * i], label.Palette[(3 * i) + 1], label.Palette[(3 * i) + 2]);
            var (er, eg, eb) = (_expectedPalette[3 * i], _expectedPalette[(3 * i) + 1], _expectedPalette[(3 * i) + 2]);
            if ((r, g, b) != (er, eg, eb))
            {
                throw new DataFormatException(
                    $"{path}: unexpected palette: entry {i} is ({r}, {g}, {b}) but the expected palette has ({er}, {eg}, {eb}); the file's indices may not mean this data set's classes (set the expected palette to none to accept any palette)");
            }
        }
    }

    private static IReadOnlyList<string> ClassList(SegmentationFolderOptions options)
    {
        if (options.ClassNames is { } names)
        {
            if (options.Classes != 0 && options.Classes != names.Count)
            {
                throw new ArgumentException($"classes = {options.Classes} but {names.Count} class names are given", nameof(options));
            }

            if (names.Count is < 1 or > 255)
            {
                throw new ArgumentException($"a segmentation data set has 1 to 255 classes (255 marks ignored pixels); got {names.Count}", nameof(options));
            }

            return names;
        }

        if (options.Classes is < 1 or > 255)
        {
            throw new ArgumentException($"a segmentation data set has 1 to 255 classes (255 marks ignored pixels); got {options.Classes}", nameof(options));
        }

        return Enumerable.Range(0, options.Classes).Select(i => $"class {i}").ToArray();
    }

    private static string Resolve(string root, string relative, string? split, string what)
    {
        if (relative.Contains("{split}", StringComparison.Ordinal))
        {
            if (string.IsNullOrEmpty(split))
            {
                throw new ArgumentException($"the {what} '{relative}' names a split ({{split}}) but no split was given", nameof(split));
            }

            relative = relative.Replace("{split}", split, StringComparison.Ordinal);
        }

        return Path.Combine(root, relative);
    }

    private static SortedDictionary<string, string> Stems(string folder, string suffix) =>
        new(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(suffix, StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(folder, f)[..^suffix.Length].Replace('\\', '/'), f => f), StringComparer.Ordinal);

    private static (string, string)[] PairFolders(string images, string labels, SegmentationFolderOptions options)
    {
        var imageStems = Stems(images, options.ImageSuffix);
        if (imageStems.Count == 0)
        {
            throw new DataFormatException($"{images}: no images (no file under it ends with '{options.ImageSuffix}')");
        }

        var labelStems = Stems(labels, options.LabelSuffix);
        var unlabelled = imageStems.Keys.Where(s => !labelStems.ContainsKey(s)).ToArray();
        if (unlabelled.Length > 0)
        {
            var more = unlabelled.Length > 1 ? $" ({unlabelled.Length - 1} more images have no label)" : string.Empty;
            throw new DataFormatException(
                $"{imageStems[unlabelled[0]]}: no label file for this image: expected {Path.Combine(labels, unlabelled[0] + options.LabelSuffix)}{more}");
        }

        var orphans = labelStems.Keys.Where(s => !imageStems.ContainsKey(s)).ToArray();
        if (orphans.Length > 0)
        {
            var more = orphans.Length > 1 ? $" ({orphans.Length - 1} more labels have no image)" : string.Empty;
            throw new DataFormatException(
                $"{labelStems[orphans[0]]}: no image for this label: expected {Path.Combine(images, orphans[0] + options.ImageSuffix)}{more}");
        }

        return imageStems.Select(p => (p.Value, labelStems[p.Key])).ToArray();
    }

    private static (string, string)[] PairListed(string splitFile, string images, string labels, SegmentationFolderOptions options)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(splitFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{splitFile}: the split file cannot be read: {e.Message}", e);
        }

        var pairs = new List<(string, string)>();
        for (var n = 0; n < lines.Length; n++)
        {
            var stem = lines[n].Trim();
            if (stem.Length == 0)
            {
                continue;
            }

            var image = Path.Combine(images, stem + options.ImageSuffix);
            var label = Path.Combine(labels, stem + options.LabelSuffix);
            if (!File.Exists(image))
            {
                throw new DataFormatException($"{splitFile}:{n + 1}: '{stem}' is listed but its image {image} does not exist");
            }

            if (!File.Exists(label))
            {
                throw new DataFormatException($"{image}: no label file for this image: expected {label} (listed in {splitFile}:{n + 1})");
            }

            pairs.Add((image, label));
        }

        if (pairs.Count == 0)
        {
            throw new DataFormatException($"{splitFile}: the split file lists no images");
        }

        return pairs.ToArray();
    }
}
