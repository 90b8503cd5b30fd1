namespace Distill.Configs;

/// <summary>The data sets a recipe's data.dataset names, and what data.root must hold for each (read by the loader and DatasetFactory).</summary>
public static class DatasetCatalog
{
    /// <summary>Every value of data.dataset, in the order messages list them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["fashion-mnist", "cifar10", "cifar100", "idx", "folder", "scenes", "segmentation-folder", "detection-scenes", "coco", "voc-detection"];

    /// <summary>Whether data.root must be given (Fashion-MNIST, which the scene sets draw on, has an installed default folder).</summary>
    public static bool NeedsRoot(string dataset) => dataset is not ("fashion-mnist" or "scenes" or "detection-scenes");

    /// <summary>What data.root must hold for <paramref name="dataset"/> (for messages).</summary>
    public static string RootLayout(string dataset) => dataset switch
    {
        "idx" or "fashion-mnist" => "a folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or .gz",
        "cifar10" => "the folder of CIFAR-10's binary version: data_batch_1.bin ... data_batch_5.bin and test_batch.bin",
        "cifar100" => "the folder of CIFAR-100's binary version: train.bin and test.bin",
        "scenes" => "the Fashion-MNIST files the scenes' glyphs come from (default: the installed copy)",
        "detection-scenes" => "the Fashion-MNIST files the detection scenes' glyphs come from (default: the installed copy)",
        "coco" => "a COCO instances file per split (data.ann_file, default annotations/instances_{split}.json) and its images (data.img_dir, default {split}/)",
        "voc-detection" => "a VOC year folder (VOCdevkit/VOC2007): Annotations/<id>.xml, JPEGImages/<id>.jpg and ImageSets/Main/<split>.txt",
        "segmentation-folder" => "image and label folders as data.preset lays them out (custom: images/ and labels/ with .png files, paired by name)",
        _ => "a folder with train/<class>/<image> and test/<class>/<image>",
    };

    /// <summary>The message for a data set that needs data.root without one.</summary>
    public static string MissingRoot(string dataset) => $"data.root is required for dataset {dataset} ({RootLayout(dataset)})";
}
