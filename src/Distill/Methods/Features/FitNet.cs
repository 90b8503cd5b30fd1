using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// FitNets hint loss (Romero et al., ICLR 2015; spec §14.3, the single-stage mdistiller variant): a
/// regressor on the student's hint tap (conv 3×3 stride 2 when the student map is twice the teacher's,
/// transposed conv 4×4 stride 2 when half, a (1 + H_s − H_t)×(1 + W_s − W_t) conv otherwise; then BN and
/// ReLU) regresses the teacher's map: L = w_ce CE + w MSE(reg(f_s), f_t). Defaults: stage2, w = 100,
/// w_ce = 1. Terms (the classification task adds "ce"): "hint".
/// See docs/methods/fitnet.md.
/// </summary>
public sealed class FitNet : FeaturePairDistiller
{
    private readonly Sequential _regressor;

    /// <summary>
    /// Creates the method from its options: their taps (default: each network's last stage output in
    /// <paramref name="context"/>) with the shapes the context gives.
    /// </summary>
    /// <exception cref="ArgumentException">A tap is not a feature map, or the maps do not fit (the message says why).</exception>
    public FitNet(Options options, MethodContext context)
        : this(options, Pair((options ?? throw new ArgumentNullException(nameof(options))).Tap, options.Tap, context, "fitnet"))
    {
    }

    private FitNet(Options options, (string StudentTap, long[] StudentShape, string TeacherTap, long[] TeacherShape) pair)
        : this(options, pair.StudentTap, pair.StudentShape, pair.TeacherTap, pair.TeacherShape)
    {
    }

    /// <summary>Creates the method for a student map of <paramref name="studentShape"/> and a teacher map of <paramref name="teacherShape"/> ([B, C, H, W]).</summary>
    /// <exception cref="ArgumentException">No regressor maps the student's size to the teacher's.</exception>
    private FitNet(Options options, string studentTap, long[] studentShape, string teacherTap, long[] teacherShape)
        : base(studentTap, teacherTap, options.CeWeight)
    {
        ArgumentNullException.ThrowIfNull(studentShape);
        ArgumentNullException.ThrowIfNull(teacherShape);
        Weight = options.Weight;
        var (cs, hs, ws) = (studentShape[1], studentShape[2], studentShape[3]);
        var (ct, ht, wt) = (teacherShape[1], teacherShape[2], teacherShape[3]);
        Module<Tensor, Tensor> conv =
            hs == 2 * ht && ws == 2 * wt ? new Conv2d(cs, ct, 3, stride: 2, padding: 1)
            : 2 * hs == ht && 2 * ws == wt ? new ConvTranspose2d(cs, ct, 4, stride: 2, padding: 1)
            : hs >= ht && ws >= wt ? new Conv2d(cs, ct, (1 + hs - ht, 1 + ws - wt))
            : throw new ArgumentException($"fitnet: no regressor maps the student's {studentTap} {Tensor.FormatShape(studentShape)} to the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} (the student map must be larger, equal, or exactly half the size)");
        _regressor = RegisterModule("regressor", new Sequential(conv, new BatchNorm2d(ct), new ReLU()));
    }

    /// <inheritdoc />
    public override string Name => "fitnet";

    /// <summary>The hint-loss weight.</summary>
    public double Weight { get; }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var hint = F.MseLoss(_regressor.Forward(inputs.Student(StudentTap)), inputs.Teacher(TeacherTap));
        return new LossTerms()
            .Add("hint", hint * Weight);
    }

    /// <summary>The options of <c>fitnet</c> (recipe keys, defaults: the CIFAR recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The hint tap of both networks.</summary>
        [OptionInfo("the hint tap of both networks")]
        public string Tap { get; init; } = "stage2";

        /// <summary>The hint-loss weight.</summary>
        [OptionInfo("hint-loss weight", Aliases = ["feat_weight", "beta", "fitnet_loss_weight"])]
        public double Weight { get; init; } = 100;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds", Aliases = ["gamma"])]
        public double CeWeight { get; init; } = 1;
    }
}
