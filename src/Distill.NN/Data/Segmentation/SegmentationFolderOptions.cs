namespace Distill.NN.Data.Segmentation;

/// <summary>
/// Where a segmentation split lives under its root and how its labels read (mmsegmentation's CustomDataset convention):
/// images under <see cref="ImageDirectory"/>, labels under <see cref="LabelDirectory"/>, searched recursively and paired
/// by the path relative to those folders with the suffixes removed. "{split}" in the folders and the split file is
/// replaced by the split's name. <see cref="Cityscapes"/>, <see cref="Voc"/> and <see cref="Ade20k"/> are the usual layouts.
/// </summary>
public sealed record SegmentationFolderOptions
{
    /// <summary>The images' folder under the root (mmseg's img_dir).</summary>
    public string ImageDirectory { get; init; } = "images";

    /// <summary>The labels' folder under the root (mmseg's ann_dir).</summary>
    public string LabelDirectory { get; init; } = "labels";

    /// <summary>The end of an image file's name (mmseg's img_suffix): files ending otherwise are skipped.</summary>
    public string ImageSuffix { get; init; } = ".png";

    /// <summary>The end of a label file's name (mmseg's seg_map_suffix), after the stem shared with its image.</summary>
    public string LabelSuffix { get; init; } = ".png";

    /// <summary>A text file under the root listing the split's stems one per line (mmseg's split / VOC's ImageSets), or null to take every image.</summary>
    public string? SplitFile { get; init; }

    /// <summary>The class count K; 0 takes it from <see cref="ClassNames"/>.</summary>
    public int Classes { get; init; }

    /// <summary>The class names in index order, or null to number them ("class 0", ...).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>How stored values become class indices (applied first).</summary>
    public LabelMapping Mapping { get; init; } = LabelMapping.None;

    /// <summary>ADE20K's convention (applied after <see cref="Mapping"/>): 0 (other) becomes 255, every other value v becomes v - 1, 255 stays 255.</summary>
    public bool ReduceZeroLabel { get; init; }

    /// <summary>
    /// The palette a palette label PNG must carry (R, G, B bytes), e.g. <see cref="VocPalette.Colors"/>: a file whose palette
    /// differs in an entry it has is an error; null accepts any palette. Grey label PNGs are always accepted.
    /// </summary>
    public IReadOnlyList<byte>? ExpectedPalette { get; init; }

    /// <summary>Image channels: 3 (RGB) or 1 (grey).</summary>
    public int Channels { get; init; } = 3;

    /// <summary>The names <see cref="ForLayout"/> knows: custom (the defaults), cityscapes, voc, ade20k, scenes.</summary>
    public static IReadOnlyList<string> Layouts { get; } = ["custom", "cityscapes", "voc", "ade20k", "scenes"];

    /// <summary>The preset of a layout name (case-insensitive; "custom" gives the defaults), for recipes that name one.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static SegmentationFolderOptions ForLayout(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToLowerInvariant() switch
        {
            "custom" => new SegmentationFolderOptions(),
            "cityscapes" => Cityscapes,
            "voc" => Voc,
            "ade20k" => Ade20k,
            "scenes" => Scenes,
            _ => throw new ArgumentException($"unknown segmentation folder layout '{name}'; known: {string.Join(", ", Layouts)}", nameof(name)),
        };
    }

    /// <summary>Cityscapes: leftImg8bit/{split}/city/*_leftImg8bit.png with gtFine/{split}/city/*_gtFine_labelIds.png, label ids mapped to the 19 train ids.</summary>
    public static SegmentationFolderOptions Cityscapes => new()
    {
        ImageDirectory = "leftImg8bit/{split}",
        LabelDirectory = "gtFine/{split}",
        ImageSuffix = "_leftImg8bit.png",
        LabelSuffix = "_gtFine_labelIds.png",
        ClassNames = CityscapesLabels.ClassNames,
        Mapping = LabelMapping.Cityscapes,
    };

    /// <summary>PASCAL VOC 2012: JPEGImages/*.jpg with SegmentationClass/*.png (palette PNGs, VOC palette checked), the split listed in ImageSets/Segmentation/{split}.txt; 21 classes.</summary>
    public static SegmentationFolderOptions Voc => new()
    {
        ImageDirectory = "JPEGImages",
        LabelDirectory = "SegmentationClass",
        ImageSuffix = ".jpg",
        LabelSuffix = ".png",
        SplitFile = "ImageSets/Segmentation/{split}.txt",
        ClassNames = VocPalette.ClassNames,
        ExpectedPalette = VocPalette.Colors,
    };

    /// <summary>ADE20K (SceneParsing): images/{split}/*.jpg with annotations/{split}/*.png ({split}: training, validation), reduce_zero_label, 150 classes.</summary>
    public static SegmentationFolderOptions Ade20k => new()
    {
        ImageDirectory = "images/{split}",
        LabelDirectory = "annotations/{split}",
        ImageSuffix = ".jpg",
        LabelSuffix = ".png",
        Classes = 150,
        ReduceZeroLabel = true,
    };

    /// <summary>A folder pair written by <see cref="Scenes.SceneExporter"/>: images/*.png (grey) with labels/*.png, the 11 scene classes.</summary>
    public static SegmentationFolderOptions Scenes => new()
    {
        ClassNames = Distill.NN.Data.Scenes.SegmentationSceneSet.SceneClasses,
        Channels = 1,
    };
}
