using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Channel-wise distillation for dense prediction (Shu et al., ICCV 2021; spec §9, the official KL form):
/// each channel's map becomes a distribution over spatial positions, p = softmax(T_c/τ), q = softmax(S_c/τ),
/// and L = w_ce CE + w τ² / (N·C) Σ_{n,c} KL(p ‖ q). A 1×1 align conv (with bias) maps the student's
/// channels to the teacher's when they differ; the maps must share H×W. Defaults τ = 4, w = 3 (the
/// official segmentation recipe; detection uses τ = 1 with w = 5 or 10), last stage output. Terms: "ce", "cwd".
/// </summary>
public sealed class ChannelWiseDistillation : FeaturePairDistiller
{
    private readonly Conv2d? _align;

    /// <summary>Creates the method for student/teacher maps of the given shapes [B, C, H, W].</summary>
    /// <exception cref="ArgumentException">The spatial sizes differ.</exception>
    public ChannelWiseDistillation(string studentTap, long[] studentShape, string teacherTap, long[] teacherShape, double tau = 4, double weight = 3, double ceWeight = 1)
        : base(studentTap, teacherTap, ceWeight)
    {
        ArgumentNullException.ThrowIfNull(studentShape);
        ArgumentNullException.ThrowIfNull(teacherShape);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tau);
        if (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3])
        {
            throw new ArgumentException($"cwd: the student's {studentTap} {Tensor.FormatShape(studentShape)} and the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} must have the same H x W");
        }

        Tau = tau;
        Weight = weight;
        _align = studentShape[1] == teacherShape[1] ? null : RegisterModule("align", new Conv2d(studentShape[1], teacherShape[1], 1));
    }

    /// <inheritdoc />
    public override string Name => "cwd";

    /// <summary>The temperature τ.</summary>
    public double Tau { get; }

    /// <summary>The CWD weight.</summary>
    public double Weight { get; }

    /// <summary>τ² / (N·C) Σ_{n,c} KL(softmax_hw(t/τ) ‖ softmax_hw(s/τ)) of two maps of equal shape.</summary>
    public static Tensor Loss(Tensor student, Tensor teacher, double tau)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var (n, c) = (student.Size(0), student.Size(1));
        var s = student.Reshape([n * c, -1]) / tau;
        var t = teacher.Reshape([n * c, -1]) / tau;
        return F.KlDiv(F.LogSoftmax(s, 1), F.Softmax(t, 1), Reduction.Sum) * (tau * tau / (n * c));
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var student = inputs.Student(StudentTap);
        if (_align is not null)
        {
            student = _align.Forward(student);
        }

        return new LossTerms()
            .Add("ce", F.CrossEntropy(inputs.StudentLogits, inputs.Labels) * CeWeight)
            .Add("cwd", Loss(student, inputs.Teacher(TeacherTap), Tau) * Weight);
    }
}
