using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Hinton et al.'s knowledge distillation (as mdistiller): L = w_ce CE(z_s, y) + w_kd T² KL(softmax(z_t/T) ‖ softmax(z_s/T)),
/// the KL summed over classes and averaged over the batch. CIFAR defaults: T = 4, w_ce = 0.1, w_kd = 0.9.
/// With logit standardisation (docs/methods/kd.md) the KD term sees z-scored logits; the LS recipe is T = 2, w_kd = 9
/// (<see cref="WithLogitStandardization"/>). On logit maps [B, K, h, w] (segmentation) each pixel is one row, as CIRKD's
/// CriterionKD: the KL is summed over classes and averaged over the B·h·w pixels. Terms (the task adds "ce"): "kd".
/// See docs/methods/kd.md.
/// </summary>
public sealed class KnowledgeDistillation : Distiller
{
    /// <summary>Creates the method from its options (defaults: the CIFAR recipe).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not positive or a weight is negative.</exception>
    public KnowledgeDistillation(Options? options = null)
    {
        options ??= new Options();
        LogitStandardizationEnabled = options.LogitStandardization;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Temperature);
        ArgumentOutOfRangeException.ThrowIfNegative(options.CeWeight);
        ArgumentOutOfRangeException.ThrowIfNegative(options.KdWeight);
        Temperature = options.Temperature;
        CeWeight = options.CeWeight;
        KdWeight = options.KdWeight;
    }

    /// <inheritdoc />
    public override string Name => "kd";

    /// <summary>The softening temperature T.</summary>
    public double Temperature { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The distillation weight.</summary>
    public double KdWeight { get; }

    /// <summary>Whether the KD term z-scores both logit vectors first (logit standardisation, docs/methods/kd.md).</summary>
    public bool LogitStandardizationEnabled { get; }

    /// <summary>KD + LS with the LS recipe: T = 2, w_ce = 0.1 (the default), w_kd = 9.</summary>
    public static KnowledgeDistillation WithLogitStandardization() =>
        new(new Options { Temperature = 2, KdWeight = 9, LogitStandardization = true });

    /// <summary>
    /// T² · KL(softmax(t/T) ‖ softmax(s/T)), summed over classes and averaged over the rows: the batch of logits [B, K],
    /// or the B·h·w pixels of logit maps [B, K, h, w] (each pixel's K logits one row, as CIRKD's CriterionKD).
    /// </summary>
    public static Tensor KdLoss(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (studentLogits.Dim > 2)
        {
            return KdLoss(PixelRows(studentLogits), PixelRows(teacherLogits), temperature);
        }

        var logStudent = F.LogSoftmax(studentLogits / temperature, 1);
        var teacher = F.Softmax(teacherLogits / temperature, 1);
        return F.KlDiv(logStudent, teacher, Reduction.BatchMean) * (temperature * temperature);
    }

    /// <summary>Logit maps [B, K, h, w] as rows [B·h·w, K] (pixel-major, as a permute to B, h, w, K then a view).</summary>
    public static Tensor PixelRows(Tensor maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var classes = maps.Size(1);
        return maps.Permute([0, .. Enumerable.Range(2, maps.Dim - 2).Select(d => (long)d), 1]).Reshape([-1, classes]);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        var (student, target) = CompareLogits(inputs, LogitStandardizationEnabled);
        return new LossTerms()
            .Add("kd", KdLoss(student, target, Temperature) * KdWeight);
    }

    /// <summary>The options of <c>kd</c> (recipe keys, defaults: the CIFAR recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The softening temperature T.</summary>
        [OptionInfo("softening temperature T", Minimum = 1e-9, Aliases = ["kd_T"])]
        public double Temperature { get; init; } = 4;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds", Aliases = ["gamma"])]
        public double CeWeight { get; init; } = 0.1;

        /// <summary>The distillation weight.</summary>
        [OptionInfo("distillation weight (the LS recipe: temperature 2, kd_weight 9)", Aliases = ["alpha"])]
        public double KdWeight { get; init; } = 0.9;

        /// <summary>Whether both logit vectors are z-scored first.</summary>
        [OptionInfo(Methods.LogitStandardization.OptionDescription)]
        public bool LogitStandardization { get; init; }
    }
}
