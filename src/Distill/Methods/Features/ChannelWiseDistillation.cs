using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Channel-wise distillation for dense prediction (Shu et al., ICCV 2021): each channel's map becomes a
/// distribution over spatial positions, p = softmax(T_c/τ), q = softmax(S_c/τ). Each mode follows one official
/// code exactly:
/// <list type="bullet">
/// <item>Equal channel counts (logit maps): the authors' segmentation code (irfanICMLL/TorchDistiller,
/// SemSeg-distill CriterionCWD, norm 'channel', divergence 'kl'): L_cwd = τ² / (N·C) Σ_{n,c} KL(p ‖ q).</item>
/// <item>Different channel counts: mmdetection-distiller's ChannelWiseDivergence: a 1×1 align conv (with bias)
/// maps the student's C_s channels to the teacher's, and L_cwd = τ² / (N·C_s) Σ_{n,c} Σ_i −p_i log q_i (the
/// cross-entropy form, divided by the student's channel count before alignment).</item>
/// </list>
/// L = w_ce CE + w L_cwd; the maps must share H×W. Defaults τ = 4, w = 3 (the official segmentation recipe;
/// mmdetection-distiller's RetinaNet recipe uses τ = 1, w = 5), last stage output. Terms (the classification task adds "ce"): "cwd".
/// </summary>
public sealed class ChannelWiseDistillation : FeaturePairDistiller
{
    private readonly Conv2d? _align;

    /// <summary>
    /// Creates the method from its options: their taps (default: each network's last stage output in
    /// <paramref name="context"/>) with the shapes the context gives.
    /// </summary>
    /// <exception cref="ArgumentException">A tap is not a feature map, or the maps do not fit (the message says why).</exception>
    public ChannelWiseDistillation(Options options, MethodContext context)
        : this(options, Pair((options ?? throw new ArgumentNullException(nameof(options))).StudentTap, options.TeacherTap, context, "cwd"))
    {
    }

    private ChannelWiseDistillation(Options options, (string StudentTap, long[] StudentShape, string TeacherTap, long[] TeacherShape) pair)
        : this(options, pair.StudentTap, pair.StudentShape, pair.TeacherTap, pair.TeacherShape)
    {
    }

    /// <summary>Creates the method for student/teacher maps of the given shapes [B, C, H, W].</summary>
    /// <exception cref="ArgumentException">The spatial sizes differ.</exception>
    private ChannelWiseDistillation(Options options, string studentTap, long[] studentShape, string teacherTap, long[] teacherShape)
        : base(studentTap, teacherTap, options.CeWeight)
    {
        ArgumentNullException.ThrowIfNull(studentShape);
        ArgumentNullException.ThrowIfNull(teacherShape);
        var (tau, weight) = (options.Tau, options.Weight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tau);
        if (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3])
        {
            throw new ArgumentException($"cwd: the student's {studentTap} {Tensor.FormatShape(studentShape)} and the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} must have the same H x W");
        }

        Tau = tau;
        Weight = weight;
        _align = AlignConv.Between(studentShape[1], teacherShape[1]) is { } align ? RegisterModule("align", align) : null;
    }

    /// <inheritdoc />
    public override string Name => "cwd";

    /// <summary>The temperature τ.</summary>
    public double Tau { get; }

    /// <summary>The CWD weight.</summary>
    public double Weight { get; }

    /// <summary>Whether an align conv maps the student's channels (mmdetection-distiller's form) or not (the segmentation code's).</summary>
    public bool Aligned => _align is not null;

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
        var student = inputs.Student(StudentTap);
        var teacher = inputs.Teacher(TeacherTap);
        var cwd = _align is null ? Loss(student, teacher, Tau) : AlignedLoss(_align.Forward(student), teacher, Tau, student.Size(1));
        return new LossTerms()
            .Add("cwd", cwd * Weight);
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

        /// <summary>The temperature τ.</summary>
        [OptionInfo("temperature tau (detection: 1)", Minimum = 1e-9, Aliases = ["temperature"])]
        public double Tau { get; init; } = 4;

        /// <summary>The CWD weight.</summary>
        [OptionInfo("CWD weight (detection: 5 or 10)", Aliases = ["lambda_cwd"])]
        public double Weight { get; init; } = 3;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
