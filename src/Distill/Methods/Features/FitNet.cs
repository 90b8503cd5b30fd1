using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// FitNets hint loss (Romero et al., ICLR 2015, the single-stage mdistiller variant): a
/// regressor on the student's hint tap (conv 3×3 stride 2 when the student map is twice the teacher's,
/// transposed conv 4×4 stride 2 when half, a (1 + H_s − H_t)×(1 + W_s − W_t) conv otherwise; then BN and
/// ReLU) regresses the teacher's map: L = w_ce CE + w MSE(reg(f_s), f_t). Defaults: stage2, w = 100,
/// w_ce = 1. With several hint taps (<c>taps</c>) each has its own regressor ("regressors.i"; one tap keeps
/// "regressor") and the term is w Σ_i MSE_i. Terms (the classification task adds "ce"): "hint".
/// See docs/methods/fitnet.md.
/// </summary>
public sealed class FitNet : FeaturePairDistiller
{
    private readonly Sequential[] _regressors;

    /// <summary>
    /// Creates the method from its options: their hint taps (<c>taps</c>, else <c>tap</c>) of both networks with the
    /// shapes <paramref name="context"/> gives.
    /// </summary>
    /// <exception cref="ArgumentException">A tap is not a feature map, or the maps do not fit (the message says why).</exception>
    public FitNet(Options options, MethodContext context)
        : this(options, Pairs((options ?? throw new ArgumentNullException(nameof(options))).Taps, options.Taps, options.Tap, options.Tap, context, "fitnet"))
    {
    }

    private FitNet(Options options, TapPair[] pairs)
        : base(pairs, options.CeWeight)
    {
        Weight = options.Weight;
        _regressors = [.. pairs.Select(p => Regressor(p.StudentTap, p.StudentShape, p.TeacherTap, p.TeacherShape))];
        RegisterPerPair("regressor", "regressors", _regressors);
    }

    /// <inheritdoc />
    public override string Name => "fitnet";

    /// <summary>The hint-loss weight.</summary>
    public double Weight { get; }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var hint = F.MseLoss(_regressors[0].Forward(inputs.Student(StudentTaps[0])), inputs.Teacher(TeacherTaps[0]));
        for (var i = 1; i < PairCount; i++)
        {
            hint += F.MseLoss(_regressors[i].Forward(inputs.Student(StudentTaps[i])), inputs.Teacher(TeacherTaps[i]));
        }

        return new LossTerms()
            .Add("hint", hint * Weight);
    }

    // The regressor for a student map [B, C_s, H_s, W_s] to a teacher map [B, C_t, H_t, W_t].
    private static Sequential Regressor(string studentTap, long[] studentShape, string teacherTap, long[] teacherShape)
    {
        var (cs, hs, ws) = (studentShape[1], studentShape[2], studentShape[3]);
        var (ct, ht, wt) = (teacherShape[1], teacherShape[2], teacherShape[3]);
        Module<Tensor, Tensor> conv =
            hs == 2 * ht && ws == 2 * wt ? new Conv2d(cs, ct, 3, stride: 2, padding: 1)
            : 2 * hs == ht && 2 * ws == wt ? new ConvTranspose2d(cs, ct, 4, stride: 2, padding: 1)
            : hs >= ht && ws >= wt ? new Conv2d(cs, ct, (1 + hs - ht, 1 + ws - wt))
            : throw new ArgumentException($"fitnet: no regressor maps the student's {studentTap} {Tensor.FormatShape(studentShape)} to the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} (the student map must be larger, equal, or exactly half the size)");
        return new Sequential(conv, new BatchNorm2d(ct), new ReLU());
    }

    /// <summary>The options of <c>fitnet</c> (recipe keys, defaults: the CIFAR recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The hint tap of both networks.</summary>
        [OptionInfo("the hint tap of both networks")]
        public string Tap { get; init; } = "stage2";

        /// <summary>Several hint taps of both networks (one regressor each, hints summed); empty: [<see cref="Tap"/>].</summary>
        [OptionInfo("several hint taps of both networks, one regressor each, their hints summed (default: [tap])")]
        public IReadOnlyList<string> Taps { get; init; } = [];

        /// <summary>The hint-loss weight.</summary>
        [OptionInfo("hint-loss weight", Aliases = ["feat_weight", "beta", "fitnet_loss_weight"])]
        public double Weight { get; init; } = 100;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds", Aliases = ["gamma"])]
        public double CeWeight { get; init; } = 1;
    }
}
