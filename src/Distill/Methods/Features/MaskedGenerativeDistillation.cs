using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// Masked generative distillation (Yang et al., ECCV 2022; spec §8): the student map (through a 1×1
/// align conv with bias when channels differ) is masked at random and a generator conv3×3 → ReLU →
/// conv3×3 must rebuild the teacher's map: L = w_ce CE + α Σ (G(S ⊙ M) − T)² / B. The classification
/// mask drops whole channels (M = 0 where u &lt; λ, u ~ U[0,1) per [B, C, 1, 1]; λ = 0.15, α = 7e-5,
/// last stage); the dense-prediction mask drops positions (M = 0 where u &gt; 1 − λ per [B, 1, H, W];
/// λ 0.65 / 0.75, α 2e-5). Masks come from the run's seeded generator; `distill check` can fix them as
/// random.mask. Terms (the classification task adds "ce"): "mgd".
/// See docs/methods/mgd.md.
/// </summary>
public sealed class MaskedGenerativeDistillation : FeaturePairDistiller
{
    private readonly Conv2d? _align;
    private readonly Sequential _generation;
    private readonly long _channels;

    /// <summary>Creates the method for student/teacher maps of the given shapes [B, C, H, W].</summary>
    /// <exception cref="ArgumentException">The spatial sizes differ or the mask kind is unknown.</exception>
    public MaskedGenerativeDistillation(string studentTap, long[] studentShape, string teacherTap, long[] teacherShape, double alpha = 7e-5,
        double maskRatio = 0.15, string mask = "channel", double ceWeight = 1)
        : base(studentTap, teacherTap, ceWeight)
    {
        ArgumentNullException.ThrowIfNull(studentShape);
        ArgumentNullException.ThrowIfNull(teacherShape);
        if (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3])
        {
            throw new ArgumentException($"mgd: the student's {studentTap} {Tensor.FormatShape(studentShape)} and the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} must have the same H x W");
        }

        if (mask is not ("channel" or "spatial"))
        {
            throw new ArgumentException($"mgd: mask '{mask}' is not channel or spatial", nameof(mask));
        }

        Alpha = alpha;
        MaskRatio = maskRatio;
        Mask = mask;
        _channels = teacherShape[1];
        _align = AlignConv.Between(studentShape[1], _channels) is { } align ? RegisterModule("align", align) : null;
        _generation = RegisterModule("generation", MaskedGenerator.Create(_channels));
    }

    /// <inheritdoc />
    public override string Name => "mgd";

    /// <summary>α.</summary>
    public double Alpha { get; }

    /// <summary>λ, the probability that a channel (or position) is masked.</summary>
    public double MaskRatio { get; }

    /// <summary>"channel" (classification) or "spatial" (detection, segmentation).</summary>
    public string Mask { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> RandomDraws => [Mask == "channel" ? "mask [B, C_t, 1, 1] (1 keeps, 0 drops)" : "mask [B, 1, H, W] (1 keeps, 0 drops)"];

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var student = inputs.Student(StudentTap);
        if (_align is not null)
        {
            student = _align.Forward(student);
        }

        var (b, h, w) = (student.Size(0), student.Size(2), student.Size(3));
        long[] shape = Mask == "channel" ? [b, _channels, 1, 1] : [b, 1, h, w];
        var mask = Draw("mask", shape, () =>
        {
            using var noGrad = Autograd.NoGrad();
            var u = Tensor.Rand(shape, student.DType, student.Device);
            var dropped = Mask == "channel" ? u < MaskRatio : u > 1 - MaskRatio;
            return 1.0 - dropped.To(student.DType);
        });
        var generated = _generation.Forward(student * mask);
        var loss = (generated - inputs.Teacher(TeacherTap)).Square().Sum() * (Alpha / b);
        return new LossTerms()
            .Add("mgd", loss);
    }
}
