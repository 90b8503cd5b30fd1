using System.Globalization;
using System.Text;
using Distill.Models;

namespace Distill.Configs;

/// <summary>
/// The recipe's keys outside the method section, stated once: names, kinds, bounds and allowed values, when each
/// applies, and meanings, in the order the loader lists and the writer writes them. Defaults are the
/// <see cref="RunConfig"/> records' initialisers. The method section's keys are each method's options.
/// </summary>
internal static class RecipeSchema
{
    /// <summary>The top-level keys of a recipe, in the order messages list them.</summary>
    public static IReadOnlyList<string> Sections { get; } = ["data", "student", "teacher", "method", "train", "task", "output"];

    /// <summary>A config made by the records' initialisers, with an (empty) teacher so the teacher keys have defaults.</summary>
    public static RunConfig Defaults { get; } = new() { Teacher = new ModelConfig() };

    /// <summary>Every key, section by section.</summary>
    public static IReadOnlyList<RecipeKey> Keys { get; } =
    [
        Data("dataset", RecipeKeyKind.Choice, "fashion-mnist, cifar10, cifar100, idx (the MNIST file layout), folder (root/train/<class>/ and root/test/<class>/ images, read as RGB; val/ when test/ is absent) scenes (the synthetic segmentation scenes: Fashion-MNIST glyphs on 64x64 canvases with exact masks, 11 classes with background), segmentation-folder (images and label PNGs as Cityscapes, VOC, ADE20K or mmsegmentation lay them out; see preset), both with task: segmentation, or detection-scenes (the synthetic detection scenes: 96x96 canvases with boxes of 10 classes), coco (a COCO instances file and its images) or voc-detection (a Pascal VOC year folder), with task: detection",
            d => d.Dataset, (d, v) => d with { Dataset = v }) with { AllowedValues = () => DatasetCatalog.Names, WrittenAtDefault = true },
        Data("root", RecipeKeyKind.Text, "the folder holding the files (required except for fashion-mnist, scenes and detection-scenes, which default to the installed Fashion-MNIST copy)",
            d => d.Root, (d, v) => d with { Root = v }),
        Data("train_subset", RecipeKeyKind.Integer, "use only N training samples (0: all; the first N, or N spread over a folder's classes)",
            d => d.TrainSubset, (d, v) => d with { TrainSubset = v }) with { Minimum = 0, WrittenAtDefault = true },
        Data("test_subset", RecipeKeyKind.Integer, "use only N test samples (0: all)",
            d => d.TestSubset, (d, v) => d with { TestSubset = v }) with { Minimum = 0, WrittenAtDefault = true },
        Data("batch_size", RecipeKeyKind.Integer, "samples per training batch (the test loader takes at least 256)",
            d => d.BatchSize, (d, v) => d with { BatchSize = v }) with { Minimum = 1, WrittenAtDefault = true },
        Data("augment", RecipeKeyKind.Choice, "random crop with padding and horizontal flips on the training set; crop alone for digits, which must not be mirrored",
            d => !d.Augment ? "none" : d.Flip ? "crop+flip" : "crop", (d, v) => d with { Augment = v is not ("none" or "false" or "False" or "no"), Flip = v != "crop" }) with
        {
            AllowedValues = () => ["crop+flip", "crop", "none", "true", "false", "True", "False", "yes", "no"],
            Values = "`crop+flip` (or `true`) \\| `crop` \\| `none` (or `false`)",
            WrittenAtDefault = true,
        },
        Data("image_size", RecipeKeyKind.Integer, "resize every image (train and test) to this height and width first (0: keep the data set's size; required by coco and voc-detection, as a batch holds images of one size)",
            d => d.ImageSize, (d, v) => d with { ImageSize = v }) with { Minimum = 0 },
        Data("test_batch_size", RecipeKeyKind.Integer, "images per test batch (0: at least 256, or 1 for a segmentation folder, whose images may differ in size)",
            d => d.TestBatchSize, (d, v) => d with { TestBatchSize = v }) with { Minimum = 0 },
        Data("preset", RecipeKeyKind.Choice, "a segmentation folder's layout and label conventions: cityscapes (leftImg8bit/gtFine, label ids to 19 train ids), voc (JPEGImages/SegmentationClass palette PNGs, ImageSets split files), ade20k (reduce_zero_label), scenes (`distill data` exports) or custom (images/ and labels/, .png)",
            d => d.Preset, (d, v) => d with { Preset = v }) with { AllowedValues = () => Distill.NN.Data.Segmentation.SegmentationFolderOptions.Layouts, AppliesWhen = SegmentationFolder("preset") },
        Data("classes", RecipeKeyKind.Integer, "a segmentation folder's class count (0: the preset's)",
            d => d.Classes, (d, v) => d with { Classes = v }) with { Minimum = 0, AppliesWhen = SegmentationFolder("classes") },
        Data("img_dir", RecipeKeyKind.Text, "the images' folder under root, {split} replaced by the split (default: the preset's; coco: {split})",
            d => d.ImageDir, (d, v) => d with { ImageDir = v }) with { AppliesWhen = FolderData("img_dir", "segmentation-folder", "coco") },
        Data("ann_file", RecipeKeyKind.Text, "coco: the instances file under root, {split} replaced by the split (default: annotations/instances_{split}.json)",
            d => d.AnnFile, (d, v) => d with { AnnFile = v }) with { AppliesWhen = FolderData("ann_file", "coco") },
        Data("ann_dir", RecipeKeyKind.Text, "the label PNGs' folder under root (default: the preset's)",
            d => d.LabelDir, (d, v) => d with { LabelDir = v }) with { AppliesWhen = SegmentationFolder("ann_dir") },
        Data("img_suffix", RecipeKeyKind.Text, "the end of an image file's name (default: the preset's)",
            d => d.ImageSuffix, (d, v) => d with { ImageSuffix = v }) with { AppliesWhen = SegmentationFolder("img_suffix") },
        Data("seg_map_suffix", RecipeKeyKind.Text, "the end of a label file's name after the stem it shares with its image (default: the preset's)",
            d => d.LabelSuffix, (d, v) => d with { LabelSuffix = v }) with { AppliesWhen = SegmentationFolder("seg_map_suffix") },
        Data("label_map", RecipeKeyKind.Choice, "how stored label values become classes: preset, none, or cityscapes (label ids to the 19 train ids, others 255)",
            d => d.LabelMap, (d, v) => d with { LabelMap = v }) with { AllowedValues = () => ["preset", "none", "cityscapes"], AppliesWhen = SegmentationFolder("label_map") },
        Data("reduce_zero_label", RecipeKeyKind.Choice, "ADE20K's convention, 0 ignored and v read as v - 1: preset, true or false",
            d => d.ReduceZeroLabel, (d, v) => d with { ReduceZeroLabel = v }) with { AllowedValues = () => ["preset", "true", "false"], AppliesWhen = SegmentationFolder("reduce_zero_label") },
        Data("train_split", RecipeKeyKind.Text, "the training split's name in {split} (default: train, ade20k: training, coco: train2017, voc-detection: trainval, the list ImageSets/Main/<split>.txt)",
            d => d.TrainSplit, (d, v) => d with { TrainSplit = v }) with { AppliesWhen = FolderData("train_split", "segmentation-folder", "coco", "voc-detection") },
        Data("test_split", RecipeKeyKind.Text, "the test split's name in {split} (default: val, ade20k: validation, coco: val2017, voc-detection: test)",
            d => d.TestSplit, (d, v) => d with { TestSplit = v }) with { AppliesWhen = FolderData("test_split", "segmentation-folder", "coco", "voc-detection") },
        Data("scale_range", RecipeKeyKind.NumberList, "segmentation training: rescale each image and mask by a ratio drawn uniformly in [min, max] first (mmseg's ratio_range, e.g. [0.5, 2.0]; empty: none)",
            d => d.ScaleRange, (d, v) => d with { ScaleRange = v }) with
        {
            AppliesWhen = SegmentationData("scale_range"),
            Check = v => (IReadOnlyList<double>)v is [] or [> 0, > 0] && ((IReadOnlyList<double>)v is [] || ((IReadOnlyList<double>)v)[1] >= ((IReadOnlyList<double>)v)[0]) ? null
                : $"data.scale_range must be two positive numbers [min, max] with min <= max (e.g. [0.5, 2.0]), not [{string.Join(", ", (IReadOnlyList<double>)v)}]",
        },
        Data("crop_size", RecipeKeyKind.Integer, "segmentation training: a random crop of this size after scaling; smaller images are padded (masks with 255, ignored); 0: none",
            d => d.CropSize, (d, v) => d with { CropSize = v }) with { Minimum = 0, AppliesWhen = SegmentationData("crop_size") },
        Data("cat_max_ratio", RecipeKeyKind.Number, "segmentation training: draw the crop again (up to ten times) while one class covers more than this fraction of it (mmseg's cat_max_ratio; 1: never)",
            d => d.CatMaxRatio, (d, v) => d with { CatMaxRatio = v }) with { Minimum = double.Epsilon, Maximum = 1, Values = "number in (0, 1]", AppliesWhen = SegmentationData("cat_max_ratio") },

        Student("model", "a name from `distill models`", m => m.Model, (m, v) => m with { Model = v }) with
        {
            AllowedValues = ModelNames, Values = "a model (`distill models`)", Required = "is required", WrittenAtDefault = true,
        },
        Student("checkpoint", "a safetensors state dict of student.model the student starts from (default: initialised from train.seed)",
            m => m.Checkpoint, (m, v) => m with { Checkpoint = v }),
        Student("backbone_weights", "a segmenter's backbone starts from a torchvision ResNet's ImageNet state dict (safetensors; keys conv1.weight, layer1.0.conv1.weight, ...; fc.* skipped); the heads keep their initialisation",
            m => m.BackboneWeights, (m, v) => m with { BackboneWeights = v }),

        Teacher("model", "the teacher (read only by methods that use one)", m => m.Model, (m, v) => m with { Model = v }) with
        {
            AllowedValues = ModelNames, Values = "a model (`distill models`)", Required = "is required when a teacher section is given", WrittenAtDefault = true,
        },
        Teacher("checkpoint", "its weights: a safetensors file (best.safetensors of `distill teacher`); required by every method that uses a teacher",
            m => m.Checkpoint, (m, v) => m with { Checkpoint = v }),
        Teacher("soft_labels", "a soft-label store of this teacher (`distill teacher --cache-soft-labels M`): each image replays one of its recorded draws per epoch and logit methods (kd, dkd, ctkd, ofa) take the stored outputs instead of running the teacher (classification only)",
            m => m.SoftLabels, (m, v) => m with { SoftLabels = v }),
        new RecipeKey("teacher", "precision", RecipeKeyKind.Choice,
            "the teacher's forward while training: fp32, or bf16 (a bfloat16 copy of the teacher, inputs cast to bfloat16, logits and tapped features cast back to float32 for the losses; fast on processors with AVX-512 BF16 or AMX)",
            c => c.Teacher?.Precision, (c, v) => c with { Teacher = (c.Teacher ?? new ModelConfig()) with { Precision = (string)v } }) with
        {
            AllowedValues = () => ["fp32", "bf16"],
        },
        new RecipeKey("teacher", "fold_bn", RecipeKeyKind.Boolean,
            "the teacher's forward while training folds each batch norm into the convolution before it (a copy of the teacher, checked against it before training; same outputs to float rounding, faster); false runs the teacher as loaded",
            c => c.Teacher?.FoldBn, (c, v) => c with { Teacher = (c.Teacher ?? new ModelConfig()) with { FoldBn = (bool)v } }),
        new RecipeKey("teacher", "channels_last", RecipeKeyKind.Boolean,
            "a float32 teacher on the CPU takes its images channels-last while training (checked against the teacher before training; same outputs to float rounding, faster convolutions); false keeps them as loaded",
            c => c.Teacher?.ChannelsLast, (c, v) => c with { Teacher = (c.Teacher ?? new ModelConfig()) with { ChannelsLast = (bool)v } }),
        new RecipeKey("student", "channels_last", RecipeKeyKind.Boolean,
            "a classification student on the CPU, trained in one process, keeps its convolution weights and takes its images channels-last (same results to float rounding, faster convolutions); false keeps them as built",
            c => c.Student.ChannelsLast, (c, v) => c with { Student = c.Student with { ChannelsLast = (bool)v } }),

        Train("epochs", RecipeKeyKind.Integer, "epochs to train", t => t.Epochs, (t, v) => t with { Epochs = v }) with { Minimum = 1, WrittenAtDefault = true },
        Train("lr", RecipeKeyKind.Number, "base learning rate (onecycle's peak)", t => t.Lr, (t, v) => t with { Lr = v }) with { Minimum = 0, WrittenAtDefault = true },
        Train("optimizer", RecipeKeyKind.Choice, "sgd, adam, or adamw (decoupled weight decay, as torch.optim.AdamW)", t => t.Optimizer, (t, v) => t with { Optimizer = v }) with
        {
            AllowedValues = () => ["sgd", "adam", "adamw"],
        },
        Train("momentum", RecipeKeyKind.Number, "SGD momentum (sgd only)", t => t.Momentum, (t, v) => t with { Momentum = v }) with
        {
            Minimum = 0, Maximum = 1, WrittenAtDefault = true, AppliesWhen = OptionOf("momentum", "sgd"),
        },
        Train("nesterov", RecipeKeyKind.Boolean, "Nesterov momentum (sgd only; needs momentum above 0)", t => t.Nesterov, (t, v) => t with { Nesterov = v }) with
        {
            AppliesWhen = OptionOf("nesterov", "sgd"),
        },
        Train("betas", RecipeKeyKind.NumberList, "Adam's moment decay rates, two numbers in [0, 1) (adam, adamw only)", t => t.Betas, (t, v) => t with { Betas = v }) with
        {
            AppliesWhen = OptionOf("betas", "adam", "adamw"),
            Check = v => (IReadOnlyList<double>)v is [>= 0 and < 1, >= 0 and < 1] ? null
                : $"train.betas must be two numbers in [0, 1) (e.g. [0.9, 0.999]), not [{string.Join(", ", (IReadOnlyList<double>)v)}]",
        },
        Train("eps", RecipeKeyKind.Number, "Adam's denominator term (adam, adamw only)", t => t.Eps, (t, v) => t with { Eps = v }) with
        {
            Minimum = 0, AppliesWhen = OptionOf("eps", "adam", "adamw"),
        },
        Train("weight_decay", RecipeKeyKind.Number, "L2 decay (sgd, adam) or decoupled decay (adamw)", t => t.WeightDecay, (t, v) => t with { WeightDecay = v }) with
        {
            Minimum = 0, WrittenAtDefault = true,
        },
        Train("no_weight_decay_on", RecipeKeyKind.NameList, "put normalisation-layer parameters (bn) and/or every bias (bias) in groups without decay",
            t => t.NoWeightDecayOn, (t, v) => t with { NoWeightDecayOn = v }) with { AllowedValues = () => ["bn", "bias"] },
        Train("method_lr_mult", RecipeKeyKind.Number, "the method's learnable parts (projectors, align convs) train at lr x this, in their own group; a method with its own optimizer (a discriminator) steps those parameters with it instead, after the student's step",
            t => t.MethodLrMult, (t, v) => t with { MethodLrMult = v }) with { Minimum = 0 },
        Train("schedule", RecipeKeyKind.Choice, "multistep (x0.1 at each milestone), cosine (to eta_min), poly (to 0), onecycle (peaks at lr after 30% of the steps) or constant",
            t => t.Schedule, (t, v) => t with { Schedule = v }) with { AllowedValues = () => ["multistep", "cosine", "poly", "onecycle", "constant"], WrittenAtDefault = true },
        Train("step_per", RecipeKeyKind.Choice, "the schedule advances after every epoch or after every optimizer step",
            t => t.StepPer, (t, v) => t with { StepPer = v }) with { AllowedValues = () => ["epoch", "iteration"] },
        Train("milestones", RecipeKeyKind.IntegerList, "epochs after which multistep multiplies the rate by 0.1 (accepted and ignored by the other schedules, as older recipes give it)",
            t => t.Milestones, (t, v) => t with { Milestones = v }) with
        {
            WrittenAtDefault = true, AppliesWhen = new(c => c.Train.Schedule == "multistep", _ => string.Empty, Refused: false),
        },
        Train("warmup_epochs", RecipeKeyKind.Integer, "linear warm-up from lr x warmup_start_factor to lr, then the schedule over the remaining steps (shorter than epochs; not with onecycle)",
            t => t.WarmupEpochs, (t, v) => t with { WarmupEpochs = v }) with { Minimum = 0 },
        Train("warmup_iters", RecipeKeyKind.Integer, "the warm-up in iterations instead (needs step_per: iteration)",
            t => t.WarmupIters, (t, v) => t with { WarmupIters = v }) with { Minimum = 0 },
        Train("warmup_start_factor", RecipeKeyKind.Number, "the warm-up's first rate as a fraction of lr (LinearLR's start_factor; only with a warm-up)",
            t => t.WarmupStartFactor, (t, v) => t with { WarmupStartFactor = v }) with
        {
            Minimum = double.Epsilon, Maximum = 1, Values = "number in (0, 1]",
            AppliesWhen = new(c => c.Train.WarmupEpochs > 0 || c.Train.WarmupIters > 0,
                _ => "train.warmup_start_factor belongs to a warm-up, but train.warmup_epochs and train.warmup_iters are 0"),
        },
        Train("power", RecipeKeyKind.Number, "the poly schedule's exponent (poly only)", t => t.Power, (t, v) => t with { Power = v }) with
        {
            Minimum = 0, AppliesWhen = BelongsTo("power", "poly"),
        },
        Train("eta_min", RecipeKeyKind.Number, "the cosine schedule's final rate (cosine only)", t => t.EtaMin, (t, v) => t with { EtaMin = v }) with
        {
            Minimum = 0, AppliesWhen = BelongsTo("eta_min", "cosine"),
        },
        Train("grad_clip", RecipeKeyKind.Number, "clip the global gradient L2 norm to this after backward, before the step (torch.nn.utils.clip_grad_norm_); 0: off",
            t => t.GradClip, (t, v) => t with { GradClip = v }) with { Minimum = 0 },
        Train("sync_bn", RecipeKeyKind.Boolean, "data-parallel runs: the student's and the method's BatchNorm layers normalise with the statistics of the whole global batch, all ranks together (SyncBatchNorm); no effect in one process",
            t => t.SyncBn, (t, v) => t with { SyncBn = v }),
        Train("seed", RecipeKeyKind.Integer, "seed of the weights, the order and the augmentation", t => t.Seed, (t, v) => t with { Seed = v }) with
        {
            Minimum = 0, WrittenAtDefault = true,
        },
        Train("device", RecipeKeyKind.Device, "where the tensors live (the weights are made on the host from the seed; a run may resume on another device)",
            t => t.Device, (t, v) => t with { Device = v }) with { Values = "`cpu` \\| `cuda` \\| `cuda:N`", MayChangeOnResume = true },

        new RecipeKey(string.Empty, "task", RecipeKeyKind.Choice, "what the student learns: its targets, loss, metrics and the metric that picks the best epoch",
            c => c.Task, (c, v) => c with { Task = (string)v })
        {
            AllowedValues = () => [.. Tasks.TrainingTasks.Names],
        },
        new RecipeKey(string.Empty, "output", RecipeKeyKind.Folder, "the run folder: config.yaml, logs, checkpoints, report.html", c => c.Output, (c, v) => c with { Output = (string)v })
        {
            WrittenAtDefault = true, MayChangeOnResume = true,
        },
    ];

    /// <summary>The keys of <paramref name="section"/> (empty for output's).</summary>
    public static IEnumerable<RecipeKey> KeysOf(string section) => Keys.Where(k => k.Section == section);

    /// <summary>The key "section.key" (or "output"); null when there is none.</summary>
    public static RecipeKey? Find(string path) => Keys.FirstOrDefault(k => k.Path == path);

    /// <summary>The README's table of <paramref name="section"/>'s keys (empty for output): key, values, default, meaning.</summary>
    public static string Markdown(string section)
    {
        var sb = new StringBuilder("| key | values | default | meaning |\n| --- | --- | --- | --- |\n");
        foreach (var key in KeysOf(section))
        {
            var preset = key.Required is not null ? "required" : key.Format(key.Default) is { } text ? $"`{text.Trim('"')}`" : "-";
            sb.Append(CultureInfo.InvariantCulture, $"| `{key.Name}` | {key.Values ?? ValuesOf(key)} | {preset} | {key.Description.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        }

        return sb.ToString();
    }

    private static string ValuesOf(RecipeKey key) => key.Kind switch
    {
        RecipeKeyKind.Integer => double.IsFinite(key.Minimum) ? $"integer >= {key.Minimum.ToString(CultureInfo.InvariantCulture)}" : "integer",
        RecipeKeyKind.Number => (double.IsFinite(key.Minimum), double.IsFinite(key.Maximum)) switch
        {
            (true, true) => $"number in [{key.Minimum.ToString(CultureInfo.InvariantCulture)}, {key.Maximum.ToString(CultureInfo.InvariantCulture)}]",
            (true, false) => $"number >= {key.Minimum.ToString(CultureInfo.InvariantCulture)}",
            _ => "number",
        },
        RecipeKeyKind.Boolean => "`true` \\| `false`",
        RecipeKeyKind.Choice => string.Join(" \\| ", key.Allowed.Select(a => $"`{a}`")),
        RecipeKeyKind.IntegerList => "list of integers",
        RecipeKeyKind.NumberList => "list of numbers",
        RecipeKeyKind.NameList => $"list of {string.Join(", ", key.Allowed.Select(a => $"`{a}`"))}",
        RecipeKeyKind.Folder => "folder",
        _ => "path",
    };

    private static IReadOnlyList<string> ModelNames() => [.. Tasks.TrainingTasks.Models.Select(n => n.Name)];

    /// <summary>A key of segmentation folders (refused with the other data sets).</summary>
    private static RecipeCondition SegmentationFolder(string key) =>
        new(c => c.Data.Dataset == "segmentation-folder", c => $"data.{key} belongs to dataset segmentation-folder, but data.dataset is {c.Data.Dataset}");

    /// <summary>A key of some file-backed data sets (refused with the others).</summary>
    private static RecipeCondition FolderData(string key, params string[] datasets) =>
        new(c => datasets.Contains(c.Data.Dataset), c => $"data.{key} belongs to dataset {string.Join(" and ", datasets)}, but data.dataset is {c.Data.Dataset}");

    /// <summary>A key of segmentation data (refused with the classification data sets).</summary>
    private static RecipeCondition SegmentationData(string key) =>
        new(c => c.Data.Dataset is "segmentation-folder" or "scenes", c => $"data.{key} belongs to segmentation data (segmentation-folder, scenes), but data.dataset is {c.Data.Dataset}");

    /// <summary>An option of some optimizers (refused with the others).</summary>
    private static RecipeCondition OptionOf(string key, params string[] optimizers) =>
        new(c => optimizers.Contains(c.Train.Optimizer), c => $"train.{key} is an option of {string.Join(" and ", optimizers)}, but train.optimizer is {c.Train.Optimizer}");

    /// <summary>A parameter of one schedule (refused with the others).</summary>
    private static RecipeCondition BelongsTo(string key, string schedule) =>
        new(c => c.Train.Schedule == schedule, c => $"train.{key} belongs to the {schedule} schedule, but train.schedule is {c.Train.Schedule}");

    private static RecipeKey Data<T>(string name, RecipeKeyKind kind, string description, Func<DataConfig, T> get, Func<DataConfig, T, DataConfig> set) =>
        new("data", name, kind, description, c => get(c.Data), (c, v) => c with { Data = set(c.Data, (T)v) });

    private static RecipeKey Student(string name, string description, Func<ModelConfig, string?> get, Func<ModelConfig, string, ModelConfig> set) =>
        new("student", name, name == "model" ? RecipeKeyKind.Choice : RecipeKeyKind.Text, description, c => get(c.Student), (c, v) => c with { Student = set(c.Student, (string)v) });

    private static RecipeKey Teacher(string name, string description, Func<ModelConfig, string?> get, Func<ModelConfig, string, ModelConfig> set) =>
        new("teacher", name, name == "model" ? RecipeKeyKind.Choice : RecipeKeyKind.Text, description,
            c => c.Teacher is null ? null : get(c.Teacher), (c, v) => c with { Teacher = set(c.Teacher ?? new ModelConfig(), (string)v) });

    private static RecipeKey Train<T>(string name, RecipeKeyKind kind, string description, Func<TrainConfig, T> get, Func<TrainConfig, T, TrainConfig> set) =>
        new("train", name, kind, description, c => get(c.Train), (c, v) => c with { Train = set(c.Train, (T)v) });
}
