using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Channel-wise distillation for dense prediction (Shu et al., ICCV 2021): each channel's map becomes a
/// distribution over spatial positions, p = softmax(T_c/τ), q = softmax(S_c/τ). Each mode follows one official
/// code exactly:
/// <list type="bullet">
/// <item>Equal channel counts (logit maps, the tap "logits" of a segmenter): the authors' segmentation code
/// (irfanICMLL/TorchDistiller, SemSeg-distill CriterionCWD, norm 'channel', divergence 'kl'):
/// L_cwd = τ² / (N·C) Σ_{n,c} KL(p ‖ q). The criterion's other normalisations are options: 'spatial' (softmax over
/// channels, / (N·H·W)) and 'channel_mean' (each channel's spatial mean, with divergence 'mse' only); with 'mse' the
/// temperature is 1, as there.</item>
/// <item>Different channel counts, <c>align: conv</c>: mmdetection-distiller's ChannelWiseDivergence: a 1×1 align conv
/// (with bias) maps the student's C_s channels to the teacher's, and L_cwd = τ² / (N·C_s) Σ_{n,c} Σ_i −p_i log q_i (the
/// cross-entropy form, divided by the student's channel count before alignment).</item>
/// <item><c>align: conv_bn_relu</c>: TorchDistiller's feature mode (--cwd-feat): the student map goes through
/// conv 1×1 (no bias) → BN → LeakyReLU(0.01) → ReLU to the teacher's channels, then the segmentation code's
/// criterion as above.</item>
/// </list>
/// L = w_ce CE + w L_cwd; the maps must share H×W. With several tap pairs (<c>student_taps</c>, <c>teacher_taps</c>)
/// each has its own align ("aligns.i"; one pair keeps "align") and L_cwd = Σ_i L_cwd,i. Defaults τ = 4, w = 3 (the official segmentation recipe;
/// mmdetection-distiller's RetinaNet recipe uses τ = 1, w = 5), last stage output. Terms (the task adds "ce"): "cwd".
/// </summary>
public sealed class ChannelWiseDistillation : FeaturePairDistiller
{
    private readonly Module<Tensor, Tensor>?[] _aligns;

    /// <summary>
    /// Creates the method from its options: their tap pairs (<c>student_taps</c>/<c>teacher_taps</c>, else
    /// <c>student_tap</c>/<c>teacher_tap</c>, an empty tap being each network's last stage output in
    /// <paramref name="context"/>) with the shapes the context gives.
    /// </summary>
    /// <exception cref="ArgumentException">A tap is not a feature map, or the maps do not fit (the message says why).</exception>
    public ChannelWiseDistillation(Options options, MethodContext context)
        : this(options, Pairs(TapsOrFpnLevels((options ?? throw new ArgumentNullException(nameof(options))).FpnLevels, options.StudentTaps, context, "cwd"), TapsOrFpnLevels(options.FpnLevels, options.TeacherTaps, context, "cwd"), options.StudentTap, options.TeacherTap, context, "cwd"))
    {
    }

    /// <summary>Creates the method for tap pairs whose maps have the given shapes [B, C, H, W].</summary>
    /// <exception cref="ArgumentException">The spatial sizes of a pair differ.</exception>
    private ChannelWiseDistillation(Options options, TapPair[] pairs)
        : base(pairs, options.CeWeight)
    {
        var (tau, weight) = (options.Tau, options.Weight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tau);
        if (options.Norm == "channel_mean" && options.Divergence == "kl")
        {
            throw new ArgumentException("cwd: norm channel_mean needs divergence mse (a channel's spatial mean is not a distribution)", nameof(options));
        }

        var bnRelu = options.Align == "conv_bn_relu";
        if (!bnRelu && (options.Norm != "channel" || options.Divergence != "kl") && pairs.FirstOrDefault(p => p.StudentShape[1] != p.TeacherShape[1]) is { } differ)
        {
            throw new ArgumentException($"cwd: norm {options.Norm} with divergence {options.Divergence} is the segmentation criterion's; the student's {differ.StudentTap} has {differ.StudentShape[1]} channels and the teacher's {differ.TeacherTap} {differ.TeacherShape[1]}: use align=conv_bn_relu (or norm=channel, divergence=kl)", nameof(options));
        }

        foreach (var (studentTap, studentShape, teacherTap, teacherShape) in pairs)
        {
            if (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3])
            {
                throw new ArgumentException($"cwd: the student's {studentTap} {Tensor.FormatShape(studentShape)} and the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} must have the same H x W");
            }
        }

        if (options.Form == "ce" && (bnRelu || options.Norm != "channel" || options.Divergence != "kl"))
        {
            throw new ArgumentException($"cwd: form ce is mmdetection-distiller's criterion (norm channel, divergence kl, align conv); it does not combine with norm {options.Norm}, divergence {options.Divergence} and align {options.Align}", nameof(options));
        }

        Tau = tau;
        Weight = weight;
        Form = options.Form;
        Norm = options.Norm;
        Divergence = options.Divergence;
        AlignKind = options.Align;
        _aligns = [.. pairs.Select(p => bnRelu ? BnReluAlign(p.StudentShape[1], p.TeacherShape[1]) : (Module<Tensor, Tensor>?)AlignConv.Between(p.StudentShape[1], p.TeacherShape[1]))];
        RegisterPerPair("align", "aligns", _aligns);
    }

    /// <inheritdoc />
    public override string Name => "cwd";

    /// <summary>The temperature τ.</summary>
    public double Tau { get; }

    /// <summary>The CWD weight.</summary>
    public double Weight { get; }

    /// <summary>"kl" (Σ KL(p ‖ q) / (N·C), the segmentation code's) or "ce" (Σ −p log q / (N·C_s), mmdetection-distiller's, also without an align conv).</summary>
    public string Form { get; }

    /// <summary>The criterion's normalisation: "channel", "spatial" or "channel_mean".</summary>
    public string Norm { get; }

    /// <summary>The criterion's divergence: "kl" or "mse".</summary>
    public string Divergence { get; }

    /// <summary>The align: "conv" (mmdetection-distiller's, when channels differ) or "conv_bn_relu" (TorchDistiller's feature mode, always).</summary>
    public string AlignKind { get; }

    /// <summary>Whether an align maps the student's channels of the first pair (an align conv or TorchDistiller's conv-BN-ReLU) or not.</summary>
    public bool Aligned => _aligns[0] is not null;

    /// <summary>TorchDistiller's feature align: conv 1×1 without bias → BN (InPlaceABN's BN) → LeakyReLU(0.01) (its activation) → ReLU.</summary>
    public static Sequential BnReluAlign(long studentChannels, long teacherChannels) =>
        new(new Conv2d(studentChannels, teacherChannels, 1, bias: false), new BatchNorm2d(teacherChannels), new LeakyReLU(0.01), new ReLU());

    /// <summary>
    /// The segmentation code's criterion with any of its normalisations: "channel" (softmax over each channel's H·W
    /// positions, / (N·C)), "spatial" (softmax over channels at each position, / (N·H·W)), "channel_mean" (each channel's
    /// spatial mean, / (N·C)); divergence "kl" (Σ KL(p_T ‖ p_S), student log-probabilities by log-softmax, × τ²) or "mse"
    /// (summed squares, τ = 1 as there). Teacher maps are constants; both maps [N, C, H, W] of equal shape.
    /// </summary>
    public static Tensor Loss(Tensor student, Tensor teacher, double tau, string norm, string divergence)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (norm == "channel" && divergence == "kl")
        {
            return Loss(student, teacher, tau);
        }

        var kl = divergence switch
        {
            "kl" => true,
            "mse" => false,
            _ => throw new ArgumentException($"cwd: divergence '{divergence}' is not kl or mse", nameof(divergence)),
        };
        var t = kl ? tau : 1;
        var (n, c) = (student.Size(0), student.Size(1));
        var spatial = student.Shape.Skip(2).Aggregate(1L, (a, d) => a * d);
        var (s, te, divisor) = norm switch
        {
            "channel" => (student.Reshape([n, c, -1]) / t, teacher.Detach().Reshape([n, c, -1]) / t, n * c),
            "spatial" => (student / t, teacher.Detach() / t, n * spatial),
            "channel_mean" => (student.Reshape([n, c, -1]).Mean([2]) / t, teacher.Detach().Reshape([n, c, -1]).Mean([2]) / t, n * c),
            _ => throw new ArgumentException($"cwd: norm '{norm}' is not channel, spatial or channel_mean", nameof(norm)),
        };
        var dim = norm == "channel" ? 2 : 1;
        var loss = !kl ? F.MseLoss(norm == "channel_mean" ? s : F.Softmax(s, dim), norm == "channel_mean" ? te : F.Softmax(te, dim), Reduction.Sum)
            : norm == "channel_mean" ? throw new ArgumentException("cwd: norm channel_mean needs divergence mse", nameof(norm))
            : F.KlDiv(F.LogSoftmax(s, dim), F.Softmax(te, dim), Reduction.Sum);
        return loss * (t * t / divisor);
    }

    /// <summary>The segmentation code's form: τ² / (N·C) Σ_{n,c} KL(softmax_hw(t/τ) ‖ softmax_hw(s/τ)) of two maps of equal shape.</summary>
    public static Tensor Loss(Tensor student, Tensor teacher, double tau)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var (n, c) = (student.Size(0), student.Size(1));
        var s = student.Reshape([n * c, -1]) / tau;
        var t = teacher.Reshape([n * c, -1]) / tau;
        return F.KlDiv(F.LogSoftmax(s, 1), F.Softmax(t, 1), Reduction.Sum) * (tau * tau / (n * c));
    }

    /// <summary>
    /// mmdetection-distiller's form: τ² / (N·C_s) Σ_{n,c} Σ_i −softmax_hw(t/τ)_i log softmax_hw(s/τ)_i of the aligned
    /// student map and the teacher map (equal shapes), C_s the student's channel count before alignment.
    /// </summary>
    public static Tensor AlignedLoss(Tensor alignedStudent, Tensor teacher, double tau, long studentChannels)
    {
        ArgumentNullException.ThrowIfNull(alignedStudent);
        ArgumentNullException.ThrowIfNull(teacher);
        var spatial = alignedStudent.Size(2) * alignedStudent.Size(3);
        var s = alignedStudent.Reshape([-1, spatial]) / tau;
        var t = teacher.Reshape([-1, spatial]) / tau;
        return -(F.Softmax(t, 1) * F.LogSoftmax(s, 1)).Sum() * (tau * tau / (alignedStudent.Size(0) * studentChannels));
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var cwd = PairLoss(inputs, 0);
        for (var i = 1; i < PairCount; i++)
        {
            cwd += PairLoss(inputs, i);
        }

        return new LossTerms()
            .Add("cwd", cwd * Weight);
    }

    // Pair i's L_cwd: the segmentation form, or mmdetection-distiller's through the pair's align conv.
    private Tensor PairLoss(DistillationInputs inputs, int i)
    {
        var student = inputs.Student(StudentTaps[i]);
        var teacher = inputs.Teacher(TeacherTaps[i]);
        return _aligns[i] switch
        {
            null when Form == "ce" => AlignedLoss(student, teacher, Tau, student.Size(1)),
            null => Loss(student, teacher, Tau, Norm, Divergence),
            Conv2d align => AlignedLoss(align.Forward(student), teacher, Tau, student.Size(1)),
            { } align => Loss(align.Forward(student), teacher, Tau, Norm, Divergence),
        };
    }

    /// <summary>The options of <c>cwd</c> (recipe keys, defaults: the authors' segmentation recipe's tau, our CIFAR weight).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The student's tap; empty: its last stage output.</summary>
        [OptionInfo("the student's feature tap (default: its last stage output)")]
        public string StudentTap { get; init; } = string.Empty;

        /// <summary>The teacher's tap; empty: its last stage output.</summary>
        [OptionInfo("the teacher's feature tap (default: its last stage output)")]
        public string TeacherTap { get; init; } = string.Empty;

        /// <summary>Several student taps, paired one by one with <see cref="TeacherTaps"/>; empty: [<see cref="StudentTap"/>].</summary>
        [OptionInfo("several student taps, paired one by one with teacher_taps (one align conv each, the losses summed; default: [student_tap])")]
        public IReadOnlyList<string> StudentTaps { get; init; } = [];

        /// <summary>The teacher taps of the pairs, as many as <see cref="StudentTaps"/>; empty: [<see cref="TeacherTap"/>].</summary>
        [OptionInfo("the teacher taps paired with student_taps, as many (default: [teacher_tap])")]
        public IReadOnlyList<string> TeacherTaps { get; init; } = [];

        /// <summary>The temperature τ.</summary>
        [OptionInfo("temperature tau (detection: 1)", Minimum = 1e-9, Aliases = ["temperature"])]
        public double Tau { get; init; } = 4;

        /// <summary>The CWD weight.</summary>
        [OptionInfo("CWD weight (detection: 5 or 10)", Aliases = ["lambda_cwd"])]
        public double Weight { get; init; } = 3;

        /// <summary>The criterion's normalisation.</summary>
        [OptionInfo("how a map becomes a distribution: channel (softmax over each channel's positions), spatial (softmax over channels), channel_mean (each channel's mean; divergence mse)", Choices = ["channel", "spatial", "channel_mean"])]
        public string Norm { get; init; } = "channel";

        /// <summary>The criterion's divergence.</summary>
        [OptionInfo("kl (times tau^2) or mse (summed squares, tau 1)", Choices = ["kl", "mse"])]
        public string Divergence { get; init; } = "kl";

        /// <summary>The criterion's form on equal channel counts.</summary>
        [OptionInfo("kl: sum of KL(p_T || p_S) / (N*C) (the segmentation code's); ce: sum of -p_T log p_S / (N*C_student) (mmdetection-distiller's, the same gradient; always so with an align conv)", Choices = ["kl", "ce"])]
        public string Form { get; init; } = "kl";

        /// <summary>The student-side align.</summary>
        [OptionInfo("conv: a 1x1 conv with bias when channels differ (mmdetection-distiller's form); conv_bn_relu: 1x1 conv, BN, ReLU always (TorchDistiller's feature mode)", Choices = ["conv", "conv_bn_relu"])]
        public string Align { get; init; } = "conv";

        /// <summary>Pair every FPN level of the student with the teacher's of the same name (unless taps are named).</summary>
        [OptionInfo("pair every FPN level (fpn.p3, ...) of the student with the teacher's of the same name, unless student_taps are given (detection: on)")]
        public bool FpnLevels { get; init; }

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
