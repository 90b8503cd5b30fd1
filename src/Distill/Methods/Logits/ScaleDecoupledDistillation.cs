using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Scale decoupled distillation (Wei et al., CVPR 2024): the final feature maps of both networks
/// are pooled into regions (SPP: P4 = pool₄(F), P2 = pool₂(P4), P1 = pool₁(P4), kept in the order
/// [P1, P2, P4] as M selects: [1] → 1 region, [1, 2] → 5, [1, 2, 4] → 21); each network's own classifier
/// turns every region into logits, rows ordered region-major (r = n·B + b) with the labels repeated. Each
/// row's KD (or DKD) term is weighted 1 when the teacher's region prediction agrees with its global one
/// about being right (consistent) and 2 otherwise (complementary); L_SDD = Σ_r w_r ℓ_r / (N·B) (NaN rows and a
/// non-finite total count as 0). SD-KD: L = w_ce CE + w_kd L_SDD (T = 4, 0.1 / 0.9). SD-DKD: rows are
/// α TCKD + β NCKD, L = w_ce CE + min(epoch / warmup, 1) L_SDD (α 1, β 8, CE 1, warm-up 20). With M = [1]
/// SD-KD is KD. Logit standardisation z-scores every row. Terms (the classification task adds "ce"): "sdd". See docs/methods/sdd.md.
/// </summary>
public sealed class ScaleDecoupledDistillation : Distiller, IUsesClassifierHeads
{
    private readonly int[] _scales;

    /// <summary>
    /// Creates the method from its options on their tap of both networks (default: the student's last stage in
    /// <paramref name="context"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The scales are not a subset of {1, 2, 4} containing 1, or the base is unknown.</exception>
    public ScaleDecoupledDistillation(Options options, MethodContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var scales = options.Scales;
        var baseMethod = options.Base;
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Temperature);
        if (scales.Count == 0 || scales.Any(s => s is not (1 or 2 or 4)) || scales.Distinct().Count() != scales.Count)
        {
            throw new ArgumentException($"sdd: scales [{string.Join(", ", scales)}] must be distinct values of 1, 2 and 4", nameof(options));
        }

        // Region 0 is the global prediction every region's weight is judged against (the official sdd_kd_loss and
        // multi_dkd take rows 0..B-1 as global): without scale 1 a local region would take its place.
        if (!scales.Contains(1))
        {
            throw new ArgumentException($"sdd: scales [{string.Join(", ", scales)}] must include 1, the global region the other regions are weighted against", nameof(options));
        }

        if (baseMethod is not ("kd" or "dkd"))
        {
            throw new ArgumentException($"sdd: base '{baseMethod}' is not kd or dkd", nameof(options));
        }

        FeatureTap = FeatureOps.TapOrLastStage(options.Tap, (context ?? MethodContext.Empty).StudentStages, "sdd");
        _scales = [.. scales.Order()];
        BaseMethod = baseMethod;
        Temperature = options.Temperature;
        CeWeight = options.ResolvedCeWeight;
        KdWeight = options.KdWeight;
        ComplementaryWeight = options.ComplementaryWeight;
        Alpha = options.Alpha;
        Beta = options.Beta;
        WarmupEpochs = options.Warmup;
        LogitStandardizationEnabled = options.LogitStandardization;
    }

    /// <inheritdoc />
    public override string Name => "sdd";

    /// <summary>The final feature-map tap.</summary>
    public string FeatureTap { get; }

    /// <summary>M: the pyramid scales, ascending.</summary>
    public IReadOnlyList<int> Scales => _scales;

    /// <summary>"kd" (SD-KD) or "dkd" (SD-DKD).</summary>
    public string BaseMethod { get; }

    /// <summary>T.</summary>
    public double Temperature { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The weight of L_SDD (SD-KD).</summary>
    public double KdWeight { get; }

    /// <summary>The weight of complementary rows.</summary>
    public double ComplementaryWeight { get; }

    /// <summary>DKD's α (SD-DKD).</summary>
    public double Alpha { get; }

    /// <summary>DKD's β (SD-DKD).</summary>
    public double Beta { get; }

    /// <summary>SD-DKD's warm-up in epochs.</summary>
    public int WarmupEpochs { get; }

    /// <summary>Whether every row is z-scored first (logit standardisation, docs/methods/kd.md).</summary>
    public bool LogitStandardizationEnabled { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => [FeatureTap];

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps => [FeatureTap];

    /// <inheritdoc />
    string IUsesClassifierHeads.HeadTap => FeatureTap;

    /// <summary>The SPP regions of a map [B, C, H, W] as [B, C, N], in the order [P1, P2, P4] restricted to <paramref name="scales"/>.</summary>
    public static Tensor Pyramid(Tensor feature, IReadOnlyList<int> scales)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(scales);
        var (b, c) = (feature.Size(0), feature.Size(1));
        var p4 = F.AdaptiveAvgPool2d(feature, (4, 4));
        var parts = new List<Tensor>();
        foreach (var s in new[] { 1, 2, 4 }.Where(scales.Contains))
        {
            var pooled = s == 4 ? p4 : F.AdaptiveAvgPool2d(p4, (s, s));
            parts.Add(pooled.Reshape([b, c, s * s]));
        }

        return parts.Count == 1 ? parts[0] : Tensor.Cat([.. parts], 2);
    }

    /// <summary>Region logits [N·B, K], region-major, from regions [B, C, N] and a classifier.</summary>
    public static Tensor RegionLogits(Tensor regions, Func<Tensor, Tensor> head)
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(head);
        var logits = head(regions.Permute([2, 0, 1]));
        return logits.Reshape([-1, logits.Size(2)]);
    }

    /// <summary>
    /// w_r: 1 where the teacher's region prediction is right exactly when its region-0 (global) prediction is,
    /// <paramref name="complementaryWeight"/> otherwise; rows region-major over <paramref name="regions"/> regions.
    /// </summary>
    public static Tensor RowWeights(Tensor teacherRows, Tensor labels, long regions, double complementaryWeight)
    {
        ArgumentNullException.ThrowIfNull(teacherRows);
        ArgumentNullException.ThrowIfNull(labels);
        var batch = labels.Size(0);
        var correct = teacherRows.ArgMax(1).Reshape([regions, batch]).Eq(labels.Reshape([1, batch]));
        var global = correct.Narrow(0, 0, 1);
        var complementary = correct.Ne(global).To(teacherRows.DType);
        return ((complementary * (complementaryWeight - 1)) + 1).Reshape([-1]);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var studentHead = inputs.StudentHead ?? throw new InvalidOperationException("sdd needs the student's classifier");
        var teacherHead = inputs.TeacherHead ?? throw new InvalidOperationException("sdd needs the teacher's classifier");
        var batch = inputs.StudentLogits.Size(0);
        var student = RegionLogits(Pyramid(inputs.Student(FeatureTap), _scales), studentHead);
        Tensor teacher;
        using (Autograd.NoGrad())
        {
            teacher = RegionLogits(Pyramid(inputs.Teacher(FeatureTap), _scales), teacherHead);
        }

        var regions = student.Size(0) / batch;
        var labels = inputs.Labels.Repeat([regions]);
        var weights = RowWeights(teacher, inputs.Labels, regions, ComplementaryWeight);
        var (s, t) = LogitStandardizationEnabled
            ? (LogitStandardization.Standardize(student), LogitStandardization.Standardize(teacher))
            : (student, teacher);
        Tensor rows;
        double scale;
        if (BaseMethod == "kd")
        {
            var kl = F.KlDiv(F.LogSoftmax(s / Temperature, 1), F.Softmax(t / Temperature, 1), Reduction.None);
            rows = kl.MaskedFill(kl.IsNan(), 0).Sum(1) * (Temperature * Temperature);
            scale = KdWeight;
        }
        else
        {
            using var temperature = Tensor.Scalar((float)Temperature).To(s.DType, s.Device);
            var (tckd, nckd) = DecoupledKnowledgeDistillation.RowTerms(s, t, labels, temperature);
            rows = (tckd * Alpha) + (nckd * Beta);
            scale = DecoupledKnowledgeDistillation.WarmupFactor(inputs.Epoch, WarmupEpochs);
        }

        var sdd = (rows * weights).Sum() / rows.Size(0);
        sdd = sdd.MaskedFill(sdd.IsFinite().LogicalNot(), 0);
        return new LossTerms()
            .Add("sdd", sdd * scale);
    }

    /// <summary>The options of <c>sdd</c> (recipe keys, defaults: the CIFAR SD-KD recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>"kd" (SD-KD) or "dkd" (SD-DKD).</summary>
        [OptionInfo("SD-KD or SD-DKD", Choices = ["kd", "dkd"])]
        public string Base { get; init; } = "kd";

        /// <summary>M, the pyramid scales.</summary>
        [OptionInfo("M, the pyramid scales: [1], [1, 2] or [1, 2, 4] (heterogeneous pairs)", Aliases = ["M"])]
        public IReadOnlyList<int> Scales { get; init; } = [1, 2];

        /// <summary>The temperature T.</summary>
        [OptionInfo("temperature T", Minimum = 1e-9)]
        public double Temperature { get; init; } = 4;

        /// <summary>The task-loss weight; null: <see cref="ResolvedCeWeight"/> (0.1, or 1 with base dkd).</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds (1 with base dkd unless given)", ResolvedBy = nameof(ResolvedCeWeight))]
        public double? CeWeight { get; init; }

        /// <summary>The weight of L_SDD (base kd).</summary>
        [OptionInfo("weight of L_SDD (base kd)")]
        public double KdWeight { get; init; } = 0.9;

        /// <summary>The weight of complementary regions.</summary>
        [OptionInfo("weight of complementary regions")]
        public double ComplementaryWeight { get; init; } = 2;

        /// <summary>DKD's alpha (base dkd).</summary>
        [OptionInfo("DKD's alpha (base dkd)")]
        public double Alpha { get; init; } = 1;

        /// <summary>DKD's beta (base dkd).</summary>
        [OptionInfo("DKD's beta (base dkd)")]
        public double Beta { get; init; } = 8;

        /// <summary>DKD's warm-up epochs (base dkd).</summary>
        [OptionInfo("DKD's warm-up epochs (base dkd)")]
        public int Warmup { get; init; } = 20;

        /// <summary>The final feature map tap of both networks; empty: the last stage.</summary>
        [OptionInfo("the final feature map tap of both networks (default: the last stage)")]
        public string Tap { get; init; } = string.Empty;

        /// <summary>Whether every row is z-scored first.</summary>
        [OptionInfo(Methods.LogitStandardization.OptionDescription)]
        public bool LogitStandardization { get; init; }

        /// <summary>The task-loss weight: <see cref="CeWeight"/> when given, else 1 with base dkd (SD-DKD), else 0.1.</summary>
        public double ResolvedCeWeight => CeWeight ?? (Base == "dkd" ? 1 : 0.1);
    }
}
