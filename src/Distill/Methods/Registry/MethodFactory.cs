using O = Distill.Methods.MethodOption;

namespace Distill.Methods;

/// <summary>
/// The method registry: every method's name, paper, options with defaults, and how it is built from a
/// recipe's method section and the networks' <see cref="MethodContext"/>. "none" (<see cref="None"/>) adds no term: the task's loss alone.
/// </summary>
public static class MethodFactory
{
    private static readonly O LogitStandardizationOption = O.Flag("logit_standardization", false, "z-score both logit vectors before the distillation term (Sun et al., CVPR 2024)");

    /// <summary>Every registered method, in the order `distill methods` lists them.</summary>
    public static IReadOnlyList<MethodDescriptor> Descriptors { get; } =
    [
        new("kd", "Knowledge distillation", "Hinton et al., 2015 (arXiv 1503.02531)",
            [O.Number("temperature", 4, "softening temperature T", 1e-9).Alias("kd_T"), O.Number("ce_weight", 0.1, "task-loss weight: the cross-entropy the trainer adds").Alias("gamma"),
             O.Number("kd_weight", 0.9, "distillation weight (the LS recipe: temperature 2, kd_weight 9)").Alias("alpha"), LogitStandardizationOption],
            (s, _) => new KnowledgeDistillation(s.Number("temperature"), s.Number("ce_weight"), s.Number("kd_weight"), s.Flag("logit_standardization"))),
        new("dkd", "Decoupled knowledge distillation", "Zhao et al., CVPR 2022 (arXiv 2203.08679)",
            [O.Number("alpha", 1, "target-class (TCKD) weight").Alias("dkd_alpha"), O.Number("beta", 8, "non-target (NCKD) weight").Alias("dkd_beta"),
             O.Number("temperature", 4, "temperature T", 1e-9).Alias("dkd_temperature"),
             O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds"), O.Integer("warmup", 20, "epochs over which the DKD weight ramps up"), LogitStandardizationOption],
            (s, _) => new DecoupledKnowledgeDistillation(s.Number("alpha"), s.Number("beta"), s.Number("temperature"), s.Number("ce_weight"), s.Integer("warmup"), s.Flag("logit_standardization"))),
        new("ctkd", "Curriculum temperature KD", "Li et al., AAAI 2023 (arXiv 2211.16231)",
            [O.Choice("base", "kd", "the distillation loss at the learned temperature", "kd", "dkd"),
             O.Choice("temperature_mode", "global", "one learned temperature, or one per sample from a small MLP (our design from the paper)", "global", "instance"),
             O.Number("ce_weight", 0.1, "task-loss weight: the cross-entropy the trainer adds (1 with base dkd unless given)").Alias("gamma"), O.Number("kd_weight", 0.9, "distillation weight (1 with base dkd unless given)"),
             O.Number("alpha", 1, "DKD's alpha (base dkd)").Alias("dkd_alpha"), O.Number("beta", 2, "DKD's beta (base dkd)").Alias("dkd_beta"),
             O.Integer("warmup", 0, "DKD's warm-up epochs (base dkd); 0: none, as the authors' CTKD"),
             O.Number("t_start", 1, "lowest temperature"), O.Number("t_range", 20, "temperature range above t_start", 1e-9).Alias("t_end"),
             O.Integer("decay_epochs", 10, "epochs over which lambda goes from lambda_max to lambda_min (5 on ImageNet)", 1).Alias("decay_loops"),
             O.Number("lambda_min", -1, "final gradient-reversal factor", double.NegativeInfinity).Alias("decay_min"),
             O.Number("lambda_max", 0, "initial gradient-reversal factor", double.NegativeInfinity).Alias("decay_max"),
             O.Integer("instance_hidden", 128, "hidden width of the instance-wise temperature MLP", 1), LogitStandardizationOption],
            (s, c) =>
            {
                var dkd = s.Text("base") == "dkd";
                return new CurriculumTemperatureDistillation(s.IsGiven("ce_weight") || !dkd ? s.Number("ce_weight") : 1, s.IsGiven("kd_weight") || !dkd ? s.Number("kd_weight") : 1,
                    s.Number("t_start"), s.Number("t_range"), s.Integer("decay_epochs"), s.Number("lambda_min"), s.Number("lambda_max"), s.Flag("logit_standardization"),
                    s.Text("base"), s.Number("alpha"), s.Number("beta"), s.Integer("warmup"),
                    s.Text("temperature_mode") == "instance" ? (int)c.StudentShape("logits")[^1] : 0, s.Integer("instance_hidden"));
            }),
        new("sdd", "Scale decoupled distillation", "Wei et al., CVPR 2024 (arXiv 2403.13512)",
            [O.Choice("base", "kd", "SD-KD or SD-DKD", "kd", "dkd"), new O("scales", MethodOptionKind.IntegerList, new[] { 1, 2 }, "M, the pyramid scales: [1], [1, 2] or [1, 2, 4] (heterogeneous pairs)").Alias("M"),
             O.Number("temperature", 4, "temperature T", 1e-9), O.Number("ce_weight", 0.1, "task-loss weight: the cross-entropy the trainer adds (1 with base dkd unless given)"),
             O.Number("kd_weight", 0.9, "weight of L_SDD (base kd)"), O.Number("complementary_weight", 2, "weight of complementary regions"),
             O.Number("alpha", 1, "DKD's alpha (base dkd)"), O.Number("beta", 8, "DKD's beta (base dkd)"), O.Integer("warmup", 20, "DKD's warm-up epochs (base dkd)"),
             O.Text("tap", string.Empty, "the final feature map tap of both networks (default: the last stage)"), LogitStandardizationOption],
            (s, c) => new ScaleDecoupledDistillation(FeatureOps.TapOrLastStage(s.Text("tap"), c.StudentStages, "sdd"), s.Integers("scales"), s.Text("base"),
                s.Number("temperature"), s.IsGiven("ce_weight") || s.Text("base") == "kd" ? s.Number("ce_weight") : 1, s.Number("kd_weight"), s.Number("complementary_weight"),
                s.Number("alpha"), s.Number("beta"), s.Integer("warmup"), s.Flag("logit_standardization"))),
        new("ofa", "One-for-All heterogeneous KD (teacher logits only)", "Hao et al., NeurIPS 2023 (arXiv 2310.19444)",
            [StagesOption("every stage output; the official stage numbers 1, 2, ... mean stage1, stage2, ...").Alias("ofa_stage"),
             new O("eps", MethodOptionKind.NumberList, new[] { 1.0 }, "target-enhancement exponent: one value, or one per stage then the logits' (1.5 for DeiT-T -> ResNet18)").Alias("ofa_eps"),
             O.Number("temperature", 1, "temperature tau", 1e-9).Alias("ofa_temperature"), O.Number("gt_weight", 1, "task-loss weight: the label-smoothed cross-entropy the trainer adds").Alias("gt_loss_weight"),
             O.Number("kd_weight", 1, "weight of the final logits' OFA term").Alias("kd_loss_weight"),
             O.Number("ofa_weight", 1, "weight of the stage projectors' OFA terms").Alias("ofa_loss_weight"), O.Number("label_smoothing", 0.1, "cross-entropy label smoothing").Alias("smoothing"),
             O.Integer("projector_dim", 0, "CNN projector width D (0: max of the student's and teacher's pooled sizes)")],
            (s, c) =>
            {
                var stages = FeatureOps.TapsOrStages(s.Strings("stages").Select(st => int.TryParse(st, out var n) ? $"stage{n}" : st).ToArray(), c.StudentStages, "ofa");
                var dim = s.Integer("projector_dim") > 0 ? s.Integer("projector_dim") : Math.Max(c.StudentShape("pooled")[^1], c.TeacherShape("pooled")[^1]);

                // The official projector depth is 4 - stage: the number of network stages after the chosen one.
                var after = stages.Select((st, i) => Array.IndexOf([.. c.StudentStages], st) is var at and >= 0 ? c.StudentStages.Count - 1 - at : stages.Count - 1 - i).ToArray();
                return new OneForAllDistillation(stages, stages.Select(c.StudentShape).ToArray(), c.StudentShape("logits")[^1], dim, s.Numbers("eps"),
                    s.Number("temperature"), s.Number("gt_weight"), s.Number("kd_weight"), s.Number("ofa_weight"), s.Number("label_smoothing"), c.StudentShape("pooled")[^1], after);
            }),
        new("crd", "Contrastive representation distillation", "Tian et al., ICLR 2020 (arXiv 1910.10699)",
            [O.Integer("feat_dim", 128, "embedding size", 1).Alias("crd_feat_dim"),
             O.Integer("nce_k", 16384, "negatives per sample, distinct and of other classes (with replacement only when K exceeds a class's pool, as the official sampler)", 1).Alias("crd_k"),
             O.Number("nce_t", 0.07, "temperature tau", 1e-9).Alias("crd_temperature"), O.Number("momentum", 0.5, "memory momentum").Alias("nce_m", "crd_momentum"),
             O.Integer("queue_size", 0, "0: memory banks over the data set; Q > 0: FIFO queues of Q embeddings (memory independent of the data set)"),
             O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds").Alias("gamma"), O.Number("crd_weight", 0.8, "CRD weight").Alias("beta"), O.Number("kd_weight", 0, "KD weight (CRD+KD: 1)").Alias("alpha"),
             O.Number("temperature", 4, "KD temperature", 1e-9).Alias("kd_T")],
            (s, c) => new ContrastiveRepresentationDistillation(c.StudentShape("pooled")[1], c.TeacherShape("pooled")[1],
                c.DatasetLabels ?? throw new ArgumentException("crd needs the training set's labels (a check input gives them as dataset.labels [N] Int64)"),
                s.Integer("feat_dim"), s.Integer("nce_k"), s.Number("nce_t"), s.Number("momentum"), s.Integer("queue_size"), s.Number("ce_weight"), s.Number("crd_weight"),
                s.Number("kd_weight"), s.Number("temperature"))),
        new("tfd", "Teacher-free feature distillation (no teacher)", "Lujun Li, ECCV 2022",
            TfdOptions(withKd: false), (s, c) => Tfd(s, c, withKd: false)) { NeedsTeacher = false },
        new("tfd+", "Teacher-free feature distillation + logit KD", "Lujun Li, ECCV 2022",
            TfdOptions(withKd: true), (s, c) => Tfd(s, c, withKd: true)),
        new("fitnet", "FitNets hints", "Romero et al., ICLR 2015 (arXiv 1412.6550)",
            [O.Text("tap", "stage2", "the hint tap of both networks"), O.Number("weight", 100, "hint-loss weight").Alias("feat_weight", "beta", "fitnet_loss_weight"),
             O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds").Alias("gamma")],
            (s, c) => new FitNet(s.Text("tap"), Map(c.StudentShape(s.Text("tap")), "fitnet", "student", s.Text("tap")), s.Text("tap"), Map(c.TeacherShape(s.Text("tap")), "fitnet", "teacher", s.Text("tap")),
                s.Number("weight"), s.Number("ce_weight"))),
        new("at", "Attention transfer", "Zagoruyko and Komodakis, ICLR 2017 (arXiv 1612.03928)",
            [StagesOption("every stage output"), O.Number("weight", 1000, "attention-loss weight").Alias("feat_weight", "beta"), O.Number("p", 2, "exponent p", 1e-9),
             O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds").Alias("gamma")],
            (s, c) => new AttentionTransfer(FeatureOps.TapsOrStages(s.Strings("stages"), c.StudentStages, "at"), s.Number("weight"), s.Number("p"), s.Number("ce_weight"))),
        new("cwd", "Channel-wise distillation (equal channel counts: the authors' segmentation code, KL / N*C; different ones: mmdetection-distiller's, 1x1 align conv, cross-entropy / N*C_student)", "Shu et al., ICCV 2021 (arXiv 2011.13256)",
            [TapOption("student_tap"),
             TapOption("teacher_tap"), O.Number("tau", 4, "temperature tau (detection: 1)", 1e-9).Alias("temperature"),
             O.Number("weight", 3, "CWD weight (detection: 5 or 10)").Alias("lambda_cwd"), O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds")],
            (s, c) =>
            {
                var (st, tt) = Pair(s, c, "cwd");
                return new ChannelWiseDistillation(st, c.StudentShape(st), tt, c.TeacherShape(tt), s.Number("tau"), s.Number("weight"), s.Number("ce_weight"));
            }),
        new("mgd", "Masked generative distillation", "Yang et al., ECCV 2022 (arXiv 2205.01529)",
            [TapOption("student_tap"), TapOption("teacher_tap"), O.Number("alpha", 7e-5, "loss weight alpha (dense prediction: 2e-5)").Alias("alpha_mgd"),
             O.Number("mask_ratio", 0.15, "lambda, the masked share (dense prediction: 0.65 / 0.75)").Alias("lambda_mgd"),
             O.Choice("mask", "channel", "channel masks (classification) or spatial masks (detection, segmentation)", "channel", "spatial"), O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds")],
            (s, c) =>
            {
                var (st, tt) = Pair(s, c, "mgd");
                return new MaskedGenerativeDistillation(st, c.StudentShape(st), tt, c.TeacherShape(tt), s.Number("alpha"), s.Number("mask_ratio"), s.Text("mask"), s.Number("ce_weight"));
            }),
        new("ofd", "Overhaul of feature distillation", "Heo et al., ICCV 2019 (arXiv 1904.01866)",
            [StagesOption("every stage (their pre-ReLU maps)"), O.Number("weight", 1e-3, "distillation weight (ImageNet: 1e-4)").Alias("feat_weight"), O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds")],
            (s, c) =>
            {
                var stages = FeatureOps.TapsOrStages(s.Strings("stages"), c.StudentStages, "ofd");
                var margins = stages.Select(st => c.TeacherBatchNorm(StageIndex(st))).Select(bn => OverhaulFeatureDistillation.Margins(bn.Weight, bn.Bias)).ToArray();
                return new OverhaulFeatureDistillation(stages, stages.Select(st => c.StudentShape(st + ".preact")).ToArray(),
                    stages.Select(st => c.TeacherShape(st + ".preact")).ToArray(), margins, s.Number("weight"), s.Number("ce_weight"));
            }),
        new("matching", "Matching guided distillation", "Yue, Deng and Zhou, ECCV 2020 (arXiv 2008.09958)",
            [StagesOption("every stage (their pre-ReLU maps)"), new O("ignore_stages", MethodOptionKind.StringList, Array.Empty<string>(), "stages left out after the divisors are set (e.g. [stage1] for ShuffleNetV2)"),
             O.Choice("reducer", "amp", "absolute max pooling, simple (max) pooling, random drop, or sparse matching", "amp", "sp", "rd", "sm").Alias("mgd_reducer"),
             O.Integer("update_freq", 2, "epochs between matching steps (1 on ImageNet)", 1).Alias("mgd_update_freq"), O.Integer("match_images", 20000, "training images each matching step reads (0: never match)"),
             O.Number("loss_factor", 1e4, "divisor of the summed distance", 1e-12),
             new O("divisors", MethodOptionKind.NumberList, Array.Empty<double>(), "per-stage divisors (default 2^(n-1-i): 8, 4, 2, 1 for four stages)"),
             O.Flag("with_kd", false, "add KD at kd_temperature").Alias("mgd_with_kd"), O.Number("kd_temperature", 1.5, "KD temperature", 1e-9), O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds")],
            (s, c) =>
            {
                var all = FeatureOps.TapsOrStages(s.Strings("stages"), c.StudentStages, "matching");
                var divisors = s.Numbers("divisors").Count > 0 ? s.Numbers("divisors")
                    : all.Select((_, i) => Math.Pow(2, all.Count - 1 - i)).ToArray();
                if (divisors.Count != all.Count)
                {
                    throw new ArgumentException($"matching: {divisors.Count} divisors for {all.Count} stages");
                }

                var kept = all.Select((stage, i) => (stage, i)).Where(x => !s.Strings("ignore_stages").Contains(x.stage)).ToArray();
                if (kept.Length == 0)
                {
                    throw new ArgumentException("matching: ignore_stages leaves no stage");
                }

                return new MatchingGuidedDistillation(kept.Select(x => x.stage).ToArray(), kept.Select(x => c.StudentShape(x.stage + ".preact")[1]).ToArray(),
                    kept.Select(x => c.TeacherShape(x.stage + ".preact")[1]).ToArray(),
                    kept.Select(x => c.TeacherBatchNorm(StageIndex(x.stage))).Select(bn => OverhaulFeatureDistillation.Margins(bn.Weight, bn.Bias)).ToArray(),
                    kept.Select(x => divisors[x.i]).ToArray(), s.Text("reducer"), s.Integer("update_freq"), s.Integer("match_images"), s.Number("loss_factor"),
                    s.Flag("with_kd"), s.Number("kd_temperature"), s.Number("ce_weight"));
            }),
    ];

    /// <summary>The name of the method that adds no distillation term.</summary>
    public const string NoneName = "none";

    /// <summary>The method "none": the student trains on its task's loss alone (a teacher or a baseline student); not among <see cref="Descriptors"/>.</summary>
    public static MethodDescriptor None { get; } = new(NoneName, "cross-entropy only (train a teacher or a baseline student)", "-", [], (_, _) => new NoDistillation()) { NeedsTeacher = false };

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
    /// <see cref="Find"/> accept its name until the returned handle is disposed. The built-in
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

    private static O TapOption(string key) =>
        O.Text(key, string.Empty, $"the {key[..key.IndexOf('_', StringComparison.Ordinal)]}'s feature tap (default: its last stage output)");

    private static O StagesOption(string fallback) =>
        new("stages", MethodOptionKind.StringList, Array.Empty<string>(), $"stage taps to distil (default: {fallback})");

    private static (string Student, string Teacher) Pair(MethodSettings s, MethodContext c, string method) =>
        (FeatureOps.TapOrLastStage(s.Text("student_tap"), c.StudentStages, method), FeatureOps.TapOrLastStage(s.Text("teacher_tap"), c.TeacherStages, method));

    private static long[] Map(long[] shape, string method, string side, string tap) => FeatureOps.RequireMap(shape, method, side, tap);

    private static int StageIndex(string stage) =>
        stage.StartsWith("stage", StringComparison.Ordinal) && int.TryParse(stage.AsSpan(5), out var n) && n >= 1
            ? n - 1
            : throw new ArgumentException($"'{stage}' is not a stage tap (stage1, stage2, ...)");

    private static O[] TfdOptions(bool withKd) =>
    [
        StagesOption("every stage output, after ReLU"), O.Number("lambda_intra", 0.0008, "weight of the intra-layer (channel ranking) term"),
        O.Number("lambda_inter", 0.0005, "weight of the inter-layer (cross-stage) term"), O.Integer("warmup", 20, "epochs of linear warm-up of the whole term").Alias("kd_warm_up"),
        O.Number("ce_weight", 1, "task-loss weight: the cross-entropy the trainer adds"),
        .. withKd ? new[] { O.Number("kd_weight", 1, "lambda_kd, the logit KD weight").Alias("lambda_kd"), O.Number("temperature", 4, "KD temperature", 1e-9).Alias("T") } : [],
    ];

    private static TeacherFreeFeatureDistillation Tfd(MethodSettings s, MethodContext c, bool withKd) =>
        new(FeatureOps.TapsOrStages(s.Strings("stages"), c.StudentStages, withKd ? "tfd+" : "tfd"), s.Number("lambda_intra"), s.Number("lambda_inter"), s.Integer("warmup"),
            withKd, withKd ? s.Number("kd_weight") : 0, withKd ? s.Number("temperature") : 4, s.Number("ce_weight"));

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
