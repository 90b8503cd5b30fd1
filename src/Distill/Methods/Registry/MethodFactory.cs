
namespace Distill.Methods;

/// <summary>
/// The method registry: every method's name, paper and options record (the options, their defaults and bounds are
/// read from the record: see <see cref="MethodOptions"/>), and how it is built from its options and the networks'
/// <see cref="MethodContext"/>. "none" (<see cref="None"/>) adds no term: the task's loss alone. A new method is one
/// file (the class with its nested Options record) and one line here, or one <see cref="Register{TOptions}"/> call.
/// </summary>
public static class MethodFactory
{
    // The methods that also apply to segmentation (logit maps, dense taps); before Descriptors, which reads it.
    private static readonly string[] Dense = [MethodDescriptor.Classification, MethodDescriptor.Segmentation];

    // The methods that also apply to detection (FPN maps of a detector; its logits are [B, L, K + 5], not maps).
    private static readonly string[] DenseAndDetection = [MethodDescriptor.Classification, MethodDescriptor.Segmentation, MethodDescriptor.Detection];

    // Methods born on detection apply to it alone.
    private static readonly string[] DetectionOnly = [MethodDescriptor.Detection];

    // Methods born on segmentation apply to it alone.
    private static readonly string[] SegmentationOnly = [MethodDescriptor.Segmentation];

    // The segmentation values of the official code where they differ from the classification defaults (a recipe's own win).
    private static Dictionary<string, IReadOnlyDictionary<string, object>> OnSegmentation(params (string Key, object Value)[] values) =>
        new(StringComparer.Ordinal) { [MethodDescriptor.Segmentation] = values.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal) };

    // Per task, the official code's values where they differ from the method's defaults.
    private static Dictionary<string, IReadOnlyDictionary<string, object>> Presets(params (string Task, (string Key, object Value)[] Values)[] tasks) =>
        tasks.ToDictionary(t => t.Task, t => (IReadOnlyDictionary<string, object>)t.Values.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>Every registered method, in the order `distill methods` lists them.</summary>
    public static IReadOnlyList<MethodDescriptor> Descriptors { get; } =
    [
        MethodDescriptor.For<KnowledgeDistillation.Options>("kd", "Knowledge distillation", "Hinton et al., 2015 (arXiv 1503.02531)", (o, _) => new KnowledgeDistillation(o)) with
        {
            // CIRKD's pixel KD: temperature 1, cross-entropy and KD at weight 1.
            AppliesTo = Dense, TaskPresets = OnSegmentation(("temperature", 1.0), ("ce_weight", 1.0), ("kd_weight", 1.0)),
        },
        MethodDescriptor.For<DecoupledKnowledgeDistillation.Options>("dkd", "Decoupled knowledge distillation", "Zhao et al., CVPR 2022 (arXiv 2203.08679)", (o, _) => new DecoupledKnowledgeDistillation(o)),
        MethodDescriptor.For<CurriculumTemperatureDistillation.Options>("ctkd", "Curriculum temperature KD", "Li et al., AAAI 2023 (arXiv 2211.16231)", (o, c) => new CurriculumTemperatureDistillation(o, c)),
        MethodDescriptor.For<ScaleDecoupledDistillation.Options>("sdd", "Scale decoupled distillation", "Wei et al., CVPR 2024 (arXiv 2403.13512)", (o, c) => new ScaleDecoupledDistillation(o, c)),
        MethodDescriptor.For<OneForAllDistillation.Options>("ofa", "One-for-All heterogeneous KD (teacher logits only)", "Hao et al., NeurIPS 2023 (arXiv 2310.19444)", (o, c) => new OneForAllDistillation(o, c)),
        MethodDescriptor.For<ContrastiveRepresentationDistillation.Options>("crd", "Contrastive representation distillation", "Tian et al., ICLR 2020 (arXiv 1910.10699)", (o, c) => new ContrastiveRepresentationDistillation(o, c)),
        MethodDescriptor.For<TeacherFreeFeatureDistillation.Options>("tfd", "Teacher-free feature distillation (no teacher)", "Lujun Li, ECCV 2022", (o, c) => new TeacherFreeFeatureDistillation(o, c)) with
        {
            // The dilated stages of a segmenter (one size, so only the channel slicing of the inter-layer term remains); the
            // CIFAR recipe's 20-epoch warm-up has no counterpart in a short dense schedule (recipes may set warmup_iters).
            AppliesTo = Dense, TaskPresets = OnSegmentation(("stages", new[] { "stage2", "stage3", "stage4" }), ("warmup", 0.0)),
        },
        MethodDescriptor.For<TeacherFreeFeatureDistillation.PlusOptions>("tfd+", "Teacher-free feature distillation + logit KD", "Lujun Li, ECCV 2022", (o, c) => new TeacherFreeFeatureDistillation(o, c)) with { AppliesTo = Dense },
        MethodDescriptor.For<FitNet.Options>("fitnet", "FitNets hints", "Romero et al., ICLR 2015 (arXiv 1412.6550)", (o, c) => new FitNet(o, c)),
        MethodDescriptor.For<AttentionTransfer.Options>("at", "Attention transfer", "Zagoruyko and Komodakis, ICLR 2017 (arXiv 1612.03928)", (o, c) => new AttentionTransfer(o, c)),
        MethodDescriptor.For<ChannelWiseDistillation.Options>("cwd", "Channel-wise distillation (equal channel counts: the authors' segmentation code, KL / N*C; different ones: mmdetection-distiller's, 1x1 align conv, cross-entropy / N*C_student)", "Shu et al., ICCV 2021 (arXiv 2011.13256)", (o, c) => new ChannelWiseDistillation(o, c)) with
        {
            // The authors' segmentation code distils the final logit maps (tau 4, weight 3, the defaults).
            // mmdetection-distiller's detection recipes: tau 1, weight 5, on the FPN levels (the detector's taps, fpn_levels).
            AppliesTo = DenseAndDetection,
            TaskPresets = Presets(
                (MethodDescriptor.Segmentation, [("student_tap", "logits"), ("teacher_tap", "logits")]),
                (MethodDescriptor.Detection, [("tau", 1.0), ("weight", 5.0), ("form", "ce"), ("fpn_levels", true)])),
        },
        MethodDescriptor.For<MaskedGenerativeDistillation.Options>("mgd", "Masked generative distillation", "Yang et al., ECCV 2022 (arXiv 2205.01529)", (o, c) => new MaskedGenerativeDistillation(o, c)) with
        {
            // MGD's segmentation distiller: the last backbone stage, spatial masks of ratio 0.75, alpha 2e-5 (plus its CWD logit term).
            // Its detection distiller: every FPN level, spatial masks of ratio 0.65, alpha 2e-5 (no logit term).
            AppliesTo = DenseAndDetection,
            TaskPresets = Presets(
                (MethodDescriptor.Segmentation, [("student_tap", "stage4"), ("teacher_tap", "stage4"), ("alpha", 2e-5), ("mask_ratio", 0.75), ("mask", "spatial")]),
                (MethodDescriptor.Detection, [("alpha", 2e-5), ("mask_ratio", 0.65), ("mask", "spatial"), ("fpn_levels", true)])),
        },
        MethodDescriptor.For<OverhaulFeatureDistillation.Options>("ofd", "Overhaul of feature distillation", "Heo et al., ICCV 2019 (arXiv 1904.01866)", (o, c) => new OverhaulFeatureDistillation(o, c)),
        MethodDescriptor.For<MatchingGuidedDistillation.Options>("matching", "Matching guided distillation", "Yue, Deng and Zhou, ECCV 2020 (arXiv 2008.09958)", (o, c) => new MatchingGuidedDistillation(o, c)) with
        {
            // The authors' Detectron2 track: the four backbone stages' pre-ReLU maps (the default stages), each distance
            // divided by [1, 1, 0.1, 0.1] * 5e7; the student-side norm stays BatchNorm (docs/methods/matching.md).
            AppliesTo = [MethodDescriptor.Classification, MethodDescriptor.Detection],
            TaskPresets = Presets((MethodDescriptor.Detection, [("divisors", new[] { 1.0, 1.0, 0.1, 0.1 }), ("loss_factor", 5e7)])),
        },
        MethodDescriptor.For<FocalGlobalDistillation.Options>("fgd", "Focal and global distillation (foreground/background masks from the boxes, attention, GcBlock relation; every FPN level)", "Yang et al., CVPR 2022 (arXiv 2111.11837)", (o, c) => new FocalGlobalDistillation(o, c)) with { AppliesTo = DetectionOnly },
        MethodDescriptor.For<StructuredKnowledgeDistillation.Options>("skd", "Structured knowledge distillation (pixel-wise, pair-wise, holistic adversarial with its own discriminator)", "Liu et al., CVPR 2019 (arXiv 1903.04197)", (o, c) => new StructuredKnowledgeDistillation(o, c)) with { AppliesTo = SegmentationOnly },
        MethodDescriptor.For<StructuredDetectionDistillation.Options>("skd_det", "Structured knowledge distillation on a detector (pair-wise on FPN levels, pixel-wise on the class logits)", "Liu et al., CVPR 2019 (arXiv 1903.04197); FCOS: the authors' extension", (o, c) => new StructuredDetectionDistillation(o, c)) with { AppliesTo = DetectionOnly },
    ];

    /// <summary>The name of the method that adds no distillation term.</summary>
    public const string NoneName = "none";

    /// <summary>The method "none": the student trains on its task's loss alone (a teacher or a baseline student); not among <see cref="Descriptors"/>.</summary>
    public static MethodDescriptor None { get; } = new(NoneName, "cross-entropy only (train a teacher or a baseline student)", "-", [], (_, _) => new NoDistillation()) { NeedsTeacher = false, AppliesTo = [MethodDescriptor.Classification, MethodDescriptor.Segmentation, MethodDescriptor.Detection] };

    private static readonly Lock RegisteredLock = new();
    private static readonly List<MethodDescriptor> RegisteredMethods = [];

    /// <summary>The method names a recipe may use ("none" first, then <see cref="Descriptors"/>, then registered methods).</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (RegisteredLock)
            {
                return [NoneName, .. Descriptors.Select(d => d.Name), .. RegisteredMethods.Select(d => d.Name)];
            }
        }
    }

    /// <summary>The descriptor named <paramref name="name"/> (<see cref="None"/> for "none"; built-in, then registered), or null when unknown.</summary>
    public static MethodDescriptor? Find(string name)
    {
        if (name == NoneName)
        {
            return None;
        }

        lock (RegisteredLock)
        {
            return Descriptors.FirstOrDefault(d => d.Name == name) ?? RegisteredMethods.FirstOrDefault(d => d.Name == name);
        }
    }

    /// <summary>
    /// Adds a method outside the built-in list (a plug-in, or a test's toy method): recipes, the loader and
    /// <see cref="Create(string, IReadOnlyDictionary{string, object}, MethodContext)"/> accept its name until the returned handle is disposed. The built-in
    /// <see cref="Descriptors"/> (documented, golden-tested) do not list it.
    /// </summary>
    /// <exception cref="ArgumentException">A method of that name exists.</exception>
    public static IDisposable Register(MethodDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        lock (RegisteredLock)
        {
            if (descriptor.Name == NoneName || Descriptors.Any(d => d.Name == descriptor.Name) || RegisteredMethods.Any(d => d.Name == descriptor.Name))
            {
                throw new ArgumentException($"a method named '{descriptor.Name}' exists", nameof(descriptor));
            }

            RegisteredMethods.Add(descriptor);
        }

        return new Registration(descriptor);
    }

    /// <summary>
    /// Adds a method whose options are the record <typeparamref name="TOptions"/> (one line: name, title, paper and how
    /// to build it), as <see cref="Register(MethodDescriptor)"/>; the options, defaults and bounds come from the record.
    /// </summary>
    /// <exception cref="ArgumentException">A method of that name exists.</exception>
    public static IDisposable Register<TOptions>(string name, string title, string paper, Func<TOptions, MethodContext, Distiller> build)
        where TOptions : MethodOptions, new() =>
        Register(MethodDescriptor.For(name, title, paper, build));

    /// <summary>
    /// The method <paramref name="name"/> with the given options (keys or aliases, as a recipe's method section; typed
    /// values: double, int, bool, string, or arrays of them) over its defaults, checked as a recipe's are.
    /// </summary>
    /// <exception cref="ArgumentException">The name or a key is unknown, or a value has the wrong type or is out of bounds (the message names the method, key, value and bound).</exception>
    public static Distiller Create(string name, IReadOnlyDictionary<string, object>? options = null, MethodContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var descriptor = Find(name) ?? throw new ArgumentException($"method '{name}' is not one of {string.Join(", ", Names)}", nameof(name));
        return descriptor.Create(options ?? new Dictionary<string, object>(), context ?? MethodContext.Empty);
    }

    /// <summary>The method whose options record <paramref name="options"/> is, checked as a recipe's are (minimum, choices).</summary>
    /// <exception cref="ArgumentException">No registered method has that record, or a value is out of bounds (the message names the method, key, value and bound).</exception>
    public static Distiller Create(MethodOptions options, MethodContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        MethodDescriptor? descriptor;
        lock (RegisteredLock)
        {
            descriptor = Descriptors.Concat(RegisteredMethods).FirstOrDefault(d => d.OptionsType == options.GetType());
        }

        var build = descriptor?.BuildTyped ?? throw new ArgumentException($"no registered method has the options {options.GetType().FullName}", nameof(options));
        return build(options, context ?? MethodContext.Empty);
    }

    private sealed class Registration(MethodDescriptor descriptor) : IDisposable
    {
        public void Dispose()
        {
            lock (RegisteredLock)
            {
                RegisteredMethods.Remove(descriptor);
            }
        }
    }
}
