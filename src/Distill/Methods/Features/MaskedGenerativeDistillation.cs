using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// Masked generative distillation (Yang et al., ECCV 2022): the student map (through a 1×1
/// align conv with bias when channels differ) is masked at random and a generator conv3×3 → ReLU →
/// conv3×3 must rebuild the teacher's map: L = w_ce CE + α Σ (G(S ⊙ M) − T)² / B. The classification
/// mask drops whole channels (M = 0 where u &lt; λ, u ~ U[0,1) per [B, C, 1, 1]; λ = 0.15, α = 7e-5,
/// last stage); the dense-prediction mask drops positions (M = 0 where u &gt; 1 − λ per [B, 1, H, W];
/// λ 0.65 / 0.75, α 2e-5). Masks come from the run's seeded generator; `distill check` can fix them as
/// random.mask. With several tap pairs (<c>student_taps</c>, <c>teacher_taps</c>) each has its own align conv,
/// generator and mask ("aligns.i", "generations.i", random.mask.i; one pair keeps "align", "generation",
/// random.mask) and the term is the sum over pairs. The segmentation distiller of the official code adds CWD on the
/// logit maps (τ 4, weight 3, KL form / (N·K)): "MGD seg = MGD + CWD logits", term "cwd_logits", on by default when the
/// step's logits are maps [B, K, h, w] (<c>logit_cwd_weight</c>; class logits and a detector's [B, L, K + 5] outputs have no such term).
/// Terms (the task adds "ce"): "mgd" (and "cwd_logits"). See docs/methods/mgd.md.
/// </summary>
public sealed class MaskedGenerativeDistillation : FeaturePairDistiller
{
    private readonly Conv2d?[] _aligns;
    private readonly Sequential[] _generations;
    private readonly long[] _channels;

    /// <summary>
    /// Creates the method from its options: their tap pairs (<c>student_taps</c>/<c>teacher_taps</c>, else
    /// <c>student_tap</c>/<c>teacher_tap</c>, an empty tap being each network's last stage output in
    /// <paramref name="context"/>) with the shapes the context gives.
    /// </summary>
    /// <exception cref="ArgumentException">A tap is not a feature map, or the maps do not fit (the message says why).</exception>
    public MaskedGenerativeDistillation(Options options, MethodContext context)
        : this(options, Pairs(TapsOrFpnLevels((options ?? throw new ArgumentNullException(nameof(options))).FpnLevels, options.StudentTaps, context, "mgd"), TapsOrFpnLevels(options.FpnLevels, options.TeacherTaps, context, "mgd"), options.StudentTap, options.TeacherTap, context, "mgd"), context)
    {
    }

    /// <summary>Creates the method for tap pairs whose maps have the given shapes [B, C, H, W].</summary>
    /// <exception cref="ArgumentException">The spatial sizes of a pair differ or the mask kind is unknown.</exception>
    private MaskedGenerativeDistillation(Options options, TapPair[] pairs, MethodContext context)
        : base(pairs, options.CeWeight)
    {
        var (alpha, maskRatio, mask) = (options.Alpha, options.MaskRatio, options.Mask);
        foreach (var (studentTap, studentShape, teacherTap, teacherShape) in pairs)
        {
            if (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3])
            {
                throw new ArgumentException($"mgd: the student's {studentTap} {Tensor.FormatShape(studentShape)} and the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} must have the same H x W");
            }
        }

        if (mask is not ("channel" or "spatial"))
        {
            throw new ArgumentException($"mgd: mask '{mask}' is not channel or spatial", nameof(options));
        }

        if (options.LogitCwdWeight is < 0 or > 0 && LogitRank(context) is 2 or 3)
        {
            throw new ArgumentException($"mgd: logit_cwd_weight {MethodOption.Format(options.LogitCwdWeight.Value)} needs logit maps [B, K, h, w] (segmentation); this student's logits are {(LogitRank(context) == 2 ? "[B, K]" : "a detector's [B, L, K + 5]")}", nameof(options));
        }

        Alpha = alpha;
        MaskRatio = maskRatio;
        LogitCwdWeight = options.LogitCwdWeight;
        Mask = mask;
        _channels = [.. pairs.Select(p => p.TeacherShape[1])];

        // Pair by pair, align conv then generator: the order the single-pair method draws their initial weights in.
        _aligns = new Conv2d?[pairs.Length];
        _generations = new Sequential[pairs.Length];
        for (var i = 0; i < pairs.Length; i++)
        {
            _aligns[i] = AlignConv.Between(pairs[i].StudentShape[1], _channels[i]);
            _generations[i] = MaskedGenerator.Create(_channels[i]);
        }

        RegisterPerPair("align", "aligns", _aligns);
        RegisterPerPair("generation", "generations", _generations);
    }

    /// <inheritdoc />
    public override string Name => "mgd";

    /// <summary>α.</summary>
    public double Alpha { get; }

    /// <summary>λ, the probability that a channel (or position) is masked.</summary>
    public double MaskRatio { get; }

    /// <summary>"channel" (classification) or "spatial" (detection, segmentation).</summary>
    public string Mask { get; }

    /// <summary>The weight of the CWD term on logit maps (null: <see cref="SegmentationLogitCwdWeight"/> on logit maps, none on class logits).</summary>
    public double? LogitCwdWeight { get; }

    /// <summary>The official segmentation distiller's weight of its CWD logit term (hard-coded there, as its τ = 4).</summary>
    public const double SegmentationLogitCwdWeight = 3;

    /// <summary>The official segmentation distiller's temperature of its CWD logit term.</summary>
    public const double LogitCwdTau = 4;

    /// <inheritdoc />
    public override IReadOnlyList<string> RandomDraws =>
        [.. Enumerable.Range(0, PairCount).Select(i => PairDrawName("mask", i) + (Mask == "channel" ? " [B, C_t, 1, 1] (1 keeps, 0 drops)" : " [B, 1, H, W] (1 keeps, 0 drops)"))];

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var loss = PairLoss(inputs, 0);
        for (var i = 1; i < PairCount; i++)
        {
            loss += PairLoss(inputs, i);
        }

        var terms = new LossTerms()
            .Add("mgd", loss);
        // Logit maps are 4-D; a detector's [B, L, K + 5] outputs are not maps and get no logit term.
        var dense = inputs.StudentLogits.Dim == 4;
        if (!dense && LogitCwdWeight is < 0 or > 0)
        {
            throw new ArgumentException($"mgd: logit_cwd_weight needs logit maps [B, K, h, w]; the step's logits are {Tensor.FormatShape(inputs.StudentLogits.Shape)}");
        }

        var weight = LogitCwdWeight ?? (dense ? SegmentationLogitCwdWeight : 0);
        if (weight != 0)
        {
            var teacher = inputs.TeacherLogits ?? throw new InvalidOperationException("mgd's logit term needs teacher logits");
            terms.Add("cwd_logits", ChannelWiseDistillation.Loss(inputs.StudentLogits, teacher, LogitCwdTau) * weight);
        }

        return terms;
    }

    // The rank of the student's logits as the context knows them (the tap "logits"), or 0 when it does not.
    private static int LogitRank(MethodContext context)
    {
        try
        {
            return context.StudentShape("logits").Length;
        }
        catch (KeyNotFoundException)
        {
            return 0;
        }
    }

    // Pair i's α Σ (G_i(A_i(S_i) ⊙ M_i) − T_i)² / B, its mask drawn as "mask" (one pair) or "mask.i".
    private Tensor PairLoss(DistillationInputs inputs, int i)
    {
        var student = inputs.Student(StudentTaps[i]);
        if (_aligns[i] is { } align)
        {
            student = align.Forward(student);
        }

        var (b, h, w) = (student.Size(0), student.Size(2), student.Size(3));
        long[] shape = Mask == "channel" ? [b, _channels[i], 1, 1] : [b, 1, h, w];
        var mask = Draw(PairDrawName("mask", i), shape, () =>
        {
            using var noGrad = Autograd.NoGrad();
            var u = Tensor.Rand(shape, student.DType, student.Device);
            var dropped = Mask == "channel" ? u < MaskRatio : u > 1 - MaskRatio;
            return 1.0 - dropped.To(student.DType);
        });
        var generated = _generations[i].Forward(student * mask);
        return (generated - inputs.Teacher(TeacherTaps[i])).Square().Sum() * (Alpha / b);
    }

    /// <summary>The options of <c>mgd</c> (recipe keys, defaults: the authors' classification recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The student's tap; empty: its last stage output.</summary>
        [OptionInfo("the student's feature tap (default: its last stage output)")]
        public string StudentTap { get; init; } = string.Empty;

        /// <summary>The teacher's tap; empty: its last stage output.</summary>
        [OptionInfo("the teacher's feature tap (default: its last stage output)")]
        public string TeacherTap { get; init; } = string.Empty;

        /// <summary>Several student taps, paired one by one with <see cref="TeacherTaps"/>; empty: [<see cref="StudentTap"/>].</summary>
        [OptionInfo("several student taps, paired one by one with teacher_taps (an align conv, a generator and a mask each, the losses summed; default: [student_tap])")]
        public IReadOnlyList<string> StudentTaps { get; init; } = [];

        /// <summary>The teacher taps of the pairs, as many as <see cref="StudentTaps"/>; empty: [<see cref="TeacherTap"/>].</summary>
        [OptionInfo("the teacher taps paired with student_taps, as many (default: [teacher_tap])")]
        public IReadOnlyList<string> TeacherTaps { get; init; } = [];

        /// <summary>The loss weight α.</summary>
        [OptionInfo("loss weight alpha (dense prediction: 2e-5)", Aliases = ["alpha_mgd"])]
        public double Alpha { get; init; } = 7e-5;

        /// <summary>λ, the masked share.</summary>
        [OptionInfo("lambda, the masked share (dense prediction: 0.65 / 0.75)", Aliases = ["lambda_mgd"])]
        public double MaskRatio { get; init; } = 0.15;

        /// <summary>"channel" or "spatial" masks.</summary>
        [OptionInfo("channel masks (classification) or spatial masks (detection, segmentation)", Choices = ["channel", "spatial"])]
        public string Mask { get; init; } = "channel";

        /// <summary>The weight of the official segmentation distiller's CWD term on the logit maps (τ 4); null: 3 on logit maps, none on class logits.</summary>
        [OptionInfo("weight of the segmentation distiller's CWD term on the logit maps (tau 4; MGD seg = MGD + CWD logits; unless given: 3 on logit maps, none on class logits; 0 turns it off)", ResolvedBy = nameof(ShownLogitCwdWeight))]
        public double? LogitCwdWeight { get; init; }

        /// <summary>The default <c>distill methods</c> shows for <see cref="LogitCwdWeight"/>: the segmentation distiller's 3 (class logits get no term unless it is given).</summary>
        public double ShownLogitCwdWeight => SegmentationLogitCwdWeight;

        /// <summary>Pair every FPN level of the student with the teacher's of the same name (unless taps are named).</summary>
        [OptionInfo("pair every FPN level (fpn.p3, ...) of the student with the teacher's of the same name, unless student_taps are given (detection: on)")]
        public bool FpnLevels { get; init; }

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
