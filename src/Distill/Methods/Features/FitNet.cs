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
    private readonly string[] _taps;

    /// <summary>
    /// Creates the method from its options: their hint taps (<c>taps</c>, else <c>tap</c>) of both networks with the
    /// shapes <paramref name="context"/> gives.
    /// </summary>
    /// <exception cref="ArgumentException">A tap is not a feature map, or the maps do not fit (the message says why).</exception>
    public FitNet(Options options, MethodContext context)
        : this(options, Pairs(options, context))
    {
    }

    private FitNet(Options options, (string Tap, long[] StudentShape, long[] TeacherShape)[] pairs)
        : base(pairs[0].Tap, pairs[0].Tap, options.CeWeight)
    {
        Weight = options.Weight;
        _taps = [.. pairs.Select(p => p.Tap)];
        _regressors = [.. pairs.Select(p => Regressor(p.Tap, p.StudentShape, p.TeacherShape))];
        if (_regressors.Length == 1)
        {
            RegisterModule("regressor", _regressors[0]);
        }
        else
        {
            var list = RegisterModule("regressors", new ModuleList());
            foreach (var regressor in _regressors)
            {
                list.Add(regressor);
            }
        }
    }

    /// <inheritdoc />
    public override string Name => "fitnet";

    /// <summary>The hint-loss weight.</summary>
    public double Weight { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => _taps;

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps => _taps;

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var hint = F.MseLoss(_regressors[0].Forward(inputs.Student(_taps[0])), inputs.Teacher(_taps[0]));
        for (var i = 1; i < _taps.Length; i++)
        {
            hint += F.MseLoss(_regressors[i].Forward(inputs.Student(_taps[i])), inputs.Teacher(_taps[i]));
        }

        return new LossTerms()
            .Add("hint", hint * Weight);
    }

    private static (string Tap, long[] StudentShape, long[] TeacherShape)[] Pairs(Options options, MethodContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        var taps = options.Taps.Count > 0 ? options.Taps : [options.Tap];
        return [.. taps.Select(tap => Pair(tap, tap, context, "fitnet")).Select(p => (p.StudentTap, p.StudentShape, p.TeacherShape))];
    }

    // The regressor for a student map [B, C_s, H_s, W_s] to a teacher map [B, C_t, H_t, W_t].
    private static Sequential Regressor(string tap, long[] studentShape, long[] teacherShape)
    {
        var (studentTap, teacherTap) = (tap, tap);
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
