using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Decoupled knowledge distillation (Zhao et al., CVPR 2022, as mdistiller): KD split into a
/// target-class term TCKD = T² KL(b_t ‖ b_s) over the binary [p_y, 1 - p_y] and a non-target term
/// NCKD = T² KL(p̂_t ‖ p̂_s) over the softmax of the other classes (the target logit pushed down by 1000),
/// both summed and divided by the batch. L = w_ce CE + min(epoch / warmup, 1) (α TCKD + β NCKD).
/// CIFAR defaults: α = 1, β = 8, T = 4, w_ce = 1, warm-up 20 epochs. Terms (the classification task adds "ce"): "dkd".
/// See docs/methods/dkd.md.
/// </summary>
public sealed class DecoupledKnowledgeDistillation : Distiller
{
    /// <summary>Creates the method from its options (defaults: the CIFAR recipe).</summary>
    public DecoupledKnowledgeDistillation(Options? options = null)
    {
        options ??= new Options();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Temperature);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Warmup);
        Alpha = options.Alpha;
        Beta = options.Beta;
        Temperature = options.Temperature;
        CeWeight = options.CeWeight;
        WarmupEpochs = options.Warmup;
        LogitStandardizationEnabled = options.LogitStandardization;
    }

    /// <inheritdoc />
    public override string Name => "dkd";

    /// <summary>Weight of the target-class term.</summary>
    public double Alpha { get; }

    /// <summary>Weight of the non-target term.</summary>
    public double Beta { get; }

    /// <summary>Temperature.</summary>
    public double Temperature { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>Epochs over which the DKD weight ramps up linearly (1-based epochs).</summary>
    public int WarmupEpochs { get; }

    /// <summary>Whether both logit vectors are z-scored first (logit standardisation, docs/methods/kd.md; DKD + LS also scales α and β by the KD weight).</summary>
    public bool LogitStandardizationEnabled { get; }

    /// <summary>TCKD and NCKD (each already T²-scaled and averaged over the batch).</summary>
    public static (Tensor Tckd, Tensor Nckd) Terms(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature)
    {
        using var t = Tensor.Scalar((float)temperature).To(studentLogits.DType, studentLogits.Device);
        var (tckd, nckd) = RowTerms(studentLogits, teacherLogits, labels, t);
        return (tckd.Mean(), nckd.Mean());
    }

    /// <summary>
    /// TCKD and NCKD of each row [R] (T²-scaled, not averaged). <paramref name="temperature"/> is a scalar
    /// tensor or one temperature per row [R, 1] (CTKD's learned temperature runs through it).
    /// </summary>
    public static (Tensor Tckd, Tensor Nckd) RowTerms(Tensor studentLogits, Tensor teacherLogits, Tensor labels, Tensor temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(temperature);
        var target = F.OneHot(labels, studentLogits.Size(1)).To(studentLogits.DType);
        var other = 1.0 - target;
        var zs = studentLogits / temperature;
        var zt = teacherLogits / temperature;
        var ps = F.Softmax(zs, 1);
        var pt = F.Softmax(zt, 1);
        var bs = Tensor.Cat([(ps * target).Sum(1, keepDim: true), (ps * other).Sum(1, keepDim: true)], 1);
        var bt = Tensor.Cat([(pt * target).Sum(1, keepDim: true), (pt * other).Sum(1, keepDim: true)], 1);
        var scale = temperature.Square().Reshape([-1]);
        // The binary student vector can underflow to 0 for a confident student (docs/methods/dkd.md: the log is guarded).
        var tckd = F.KlDiv(bs.ClampMin(1e-30).Log(), bt, Reduction.None).Sum(1) * scale;
        // KL over the non-target classes, written Σ exp(log p̂_t)(log p̂_t − log p̂_s): the teacher's target entry
        // underflows to p = 0 with log p ≈ −1000/T, so a learned temperature (CTKD) gets a finite gradient
        // where kl_div's d/dp = log p + 1 would give 0 · (−∞) = NaN; the value is kl_div's.
        var teacherOthers = F.LogSoftmax(zt - (target * 1000.0), 1);
        var studentOthers = F.LogSoftmax(zs - (target * 1000.0), 1);
        var nckd = (teacherOthers.Exp() * (teacherOthers - studentOthers)).Sum(1) * scale;
        return (tckd, nckd);
    }

    /// <summary>min(epoch / warmup, 1), 1 without a warm-up.</summary>
    public static double WarmupFactor(int epoch, int warmupEpochs) => warmupEpochs == 0 ? 1.0 : Math.Min((double)epoch / warmupEpochs, 1.0);

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        var (student, target) = CompareLogits(inputs, LogitStandardizationEnabled);
        var (tckd, nckd) = Terms(student, target, inputs.Labels, Temperature);
        var warmup = WarmupFactor(inputs.Epoch, WarmupEpochs);
        return new LossTerms()
            .Add("dkd", ((tckd * Alpha) + (nckd * Beta)) * warmup);
    }

    /// <summary>The options of <c>dkd</c> (recipe keys, defaults: the CIFAR recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The target-class (TCKD) weight.</summary>
        [OptionInfo("target-class (TCKD) weight", Aliases = ["dkd_alpha"])]
        public double Alpha { get; init; } = 1;

        /// <summary>The non-target (NCKD) weight.</summary>
        [OptionInfo("non-target (NCKD) weight", Aliases = ["dkd_beta"])]
        public double Beta { get; init; } = 8;

        /// <summary>The temperature T.</summary>
        [OptionInfo("temperature T", Minimum = 1e-9, Aliases = ["dkd_temperature"])]
        public double Temperature { get; init; } = 4;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds")]
        public double CeWeight { get; init; } = 1;

        /// <summary>Epochs over which the DKD weight ramps up.</summary>
        [OptionInfo("epochs over which the DKD weight ramps up")]
        public int Warmup { get; init; } = 20;

        /// <summary>Whether both logit vectors are z-scored first.</summary>
        [OptionInfo(Methods.LogitStandardization.OptionDescription)]
        public bool LogitStandardization { get; init; }
    }
}
