namespace Distill.Configs;

/// <summary>A training run as a YAML recipe describes it (configs/&lt;dataset&gt;/&lt;method&gt;/&lt;student&gt;_from_&lt;teacher&gt;.yaml).</summary>
public sealed record RunConfig
{
    /// <summary>The data section.</summary>
    public DataConfig Data { get; init; } = new();

    /// <summary>The student model.</summary>
    public ModelConfig Student { get; init; } = new() { Model = "resnet8" };

    /// <summary>The teacher model and its weights; null when the method needs none.</summary>
    public ModelConfig? Teacher { get; init; }

    /// <summary>The method and its options.</summary>
    public MethodConfig Method { get; init; } = new();

    /// <summary>The optimisation recipe.</summary>
    public TrainConfig Train { get; init; } = new();

    /// <summary>What the student learns: its targets, loss, metrics and "best" epoch ("classification", the only task yet).</summary>
    public string Task { get; init; } = "classification";

    /// <summary>The run folder (logs, checkpoints, the resolved config).</summary>
    public string Output { get; init; } = "runs/run";
}

/// <summary>Where the images come from.</summary>
public sealed record DataConfig
{
    /// <summary>
    /// fashion-mnist, cifar10, cifar100, idx (the MNIST file layout) or folder (class-per-folder images in
    /// root/train/&lt;class&gt;/ and root/test/&lt;class&gt;/, read as RGB).
    /// </summary>
    public string Dataset { get; init; } = "fashion-mnist";

    /// <summary>The folder holding the files (defaults per data set).</summary>
    public string? Root { get; init; }

    /// <summary>Use only the first N training samples (0: all).</summary>
    public int TrainSubset { get; init; }

    /// <summary>Use only the first N test samples (0: all).</summary>
    public int TestSubset { get; init; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Random crop with padding on the training set (recipe: augment crop, crop+flip or true; none or false turns it off).</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Random horizontal flips too, when <see cref="Augment"/> is on (recipe: augment crop turns them off, for digits).</summary>
    public bool Flip { get; init; } = true;

    /// <summary>Resize every image (train and test) to this height and width first (0: keep the data set's size).</summary>
    public int ImageSize { get; init; }

    /// <summary>A segmentation folder's layout: cityscapes, voc, ade20k, scenes (exported scenes) or custom.</summary>
    public string Preset { get; init; } = "custom";

    /// <summary>A segmentation folder's class count (0: the preset's).</summary>
    public int Classes { get; init; }

    /// <summary>A segmentation folder's or COCO data set's image folder under the root, "{split}" replaced (null: the preset's, or {split} for COCO).</summary>
    public string? ImageDir { get; init; }

    /// <summary>A COCO data set's instances file under the root, "{split}" replaced (null: annotations/instances_{split}.json).</summary>
    public string? AnnFile { get; init; }

    /// <summary>A segmentation folder's label folder under the root (null: the preset's).</summary>
    public string? LabelDir { get; init; }

    /// <summary>The end of an image file's name (null: the preset's).</summary>
    public string? ImageSuffix { get; init; }

    /// <summary>The end of a label file's name after the stem shared with its image (null: the preset's).</summary>
    public string? LabelSuffix { get; init; }

    /// <summary>How stored label values become classes: preset, none or cityscapes (label ids to the 19 train ids).</summary>
    public string LabelMap { get; init; } = "preset";

    /// <summary>ADE20K's label convention (0 ignored, v to v - 1): preset, true or false.</summary>
    public string ReduceZeroLabel { get; init; } = "preset";

    /// <summary>The split names that replace "{split}" for training and testing (empty: the preset's, train/val or training/validation).</summary>
    public string TrainSplit { get; init; } = string.Empty;

    /// <summary>The test split's name (empty: the preset's).</summary>
    public string TestSplit { get; init; } = string.Empty;

    /// <summary>Segmentation training: random rescaling by a ratio in [min, max] first (empty: none).</summary>
    public IReadOnlyList<double> ScaleRange { get; init; } = [];

    /// <summary>Segmentation training: a random crop of this size, images smaller than it padded (masks with 255); 0: none.</summary>
    public int CropSize { get; init; }

    /// <summary>Segmentation training: redraw a crop in which one class covers more than this fraction (mmseg's cat_max_ratio); 1: never.</summary>
    public double CatMaxRatio { get; init; } = 1;

    /// <summary>Images per test batch (0: 256, or 1 for a segmentation folder, whose images may differ in size).</summary>
    public int TestBatchSize { get; init; }
}

/// <summary>A model by registry name, optionally with weights.</summary>
public sealed record ModelConfig
{
    /// <summary>A name from `distill models`.</summary>
    public string Model { get; init; } = string.Empty;

    /// <summary>A safetensors file with the model's state dict (required for a teacher).</summary>
    public string? Checkpoint { get; init; }

    /// <summary>A soft-label store of this teacher (teacher only): logit methods take the stored outputs on recorded draws instead of running the teacher.</summary>
    public string? SoftLabels { get; init; }

    /// <summary>A torchvision ResNet's ImageNet state dict (safetensors) a segmenter's backbone starts from (student only).</summary>
    public string? BackboneWeights { get; init; }

    /// <summary>
    /// The teacher's forward precision during training (teacher only): fp32, or bf16 (a bfloat16 copy of the teacher made
    /// once per run; its inputs are cast to bfloat16 and its outputs and tapped features back to float32 for the losses).
    /// </summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>
    /// Whether the teacher trains with its eval-mode batch norms folded into the convolutions before them (teacher only;
    /// a copy of the teacher made once per run, checked against the teacher before training): the same outputs to
    /// float rounding, one pass over memory fewer per convolution.
    /// </summary>
    public bool FoldBn { get; init; } = true;

    /// <summary>
    /// Whether the model runs channels-last on the CPU: a float32 teacher takes its images channels-last (checked against
    /// the teacher before training); a classification student trained in one process keeps its convolution weights
    /// and takes its images channels-last. The same results to float rounding, faster convolutions.
    /// </summary>
    public bool ChannelsLast { get; init; } = true;
}

/// <summary>The distillation method: "none" trains the student alone.</summary>
public sealed record MethodConfig
{
    /// <summary>A name from `distill methods`, or "none".</summary>
    public string Name { get; init; } = "none";

    /// <summary>
    /// The options the recipe set, by key, typed as the option's <see cref="OptionSpec.Kind"/> says;
    /// the method's defaults apply to the rest.
    /// </summary>
    public IReadOnlyDictionary<string, object> Options { get; init; } = new Dictionary<string, object>();
}

/// <summary>The optimisation recipe.</summary>
public sealed record TrainConfig
{
    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 240;

    /// <summary>Base learning rate.</summary>
    public double Lr { get; init; } = 0.05;

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>sgd, adam or adamw (decoupled weight decay, torch.optim.AdamW).</summary>
    public string Optimizer { get; init; } = "sgd";

    /// <summary>Nesterov momentum (sgd).</summary>
    public bool Nesterov { get; init; }

    /// <summary>Decay rates of Adam's first and second moments (adam, adamw).</summary>
    public IReadOnlyList<double> Betas { get; init; } = [0.9, 0.999];

    /// <summary>Adam's denominator term (adam, adamw).</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Parameters kept out of weight decay: "bn" (normalisation layers' weights and biases), "bias" (every bias).</summary>
    public IReadOnlyList<string> NoWeightDecayOn { get; init; } = [];

    /// <summary>The method's own learnable parameters (projectors, discriminators...) train at lr times this.</summary>
    public double MethodLrMult { get; init; } = 1;

    /// <summary>multistep, cosine, poly, onecycle or constant.</summary>
    public string Schedule { get; init; } = "multistep";

    /// <summary>Whether the schedule advances once per epoch or once per iteration (optimizer step).</summary>
    public string StepPer { get; init; } = "epoch";

    /// <summary>Epochs after which multistep divides the rate by 10.</summary>
    public IReadOnlyList<int> Milestones { get; init; } = [150, 180, 210];

    /// <summary>Linear warm-up length in epochs (0: none); the schedule runs over the remaining steps.</summary>
    public int WarmupEpochs { get; init; }

    /// <summary>Linear warm-up length in iterations (step_per: iteration only; 0: none).</summary>
    public int WarmupIters { get; init; }

    /// <summary>The warm-up's first rate as a fraction of lr (torch.optim.lr_scheduler.LinearLR's start_factor).</summary>
    public double WarmupStartFactor { get; init; } = 0.1;

    /// <summary>The exponent of the poly schedule.</summary>
    public double Power { get; init; } = 0.9;

    /// <summary>The cosine schedule's final rate.</summary>
    public double EtaMin { get; init; }

    /// <summary>Largest global L2 norm of the gradients before each step (torch.nn.utils.clip_grad_norm_); 0: no clipping.</summary>
    public double GradClip { get; init; }

    /// <summary>
    /// Data-parallel runs: the student's and the method's batch normalisation layers synchronise their statistics
    /// across the ranks (SyncBatchNorm); no effect with one process.
    /// </summary>
    public bool SyncBn { get; init; }

    /// <summary>Seed of weights, order and augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Where the run's tensors live: cpu, cuda or cuda:N (PyTorch's spelling, as <see cref="Torch.Device.Parse"/> reads it).
    /// Weights are initialised on the host from the seed and then moved, so a seed gives the same initial weights on
    /// every device; a run may resume on another device (the key is not part of the result).
    /// </summary>
    public string Device { get; init; } = "cpu";
}
