using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Hinton et al.'s knowledge distillation (spec §3, as mdistiller): L = w_ce CE(z_s, y) + w_kd T² KL(softmax(z_t/T) ‖ softmax(z_s/T)),
/// the KL summed over classes and averaged over the batch. CIFAR defaults: T = 4, w_ce = 0.1, w_kd = 0.9.
/// With logit standardisation (§4) the KD term sees z-scored logits; the LS recipe is T = 2, w_kd = 9
/// (<see cref="WithLogitStandardization"/>). Terms (the classification task adds "ce"): "kd".
/// See docs/methods/kd.md.
/// </summary>
public sealed class KnowledgeDistillation : Distiller
{
    /// <summary>Creates the method.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not positive or a weight is negative.</exception>
    public KnowledgeDistillation(double temperature = 4, double ceWeight = 0.1, double kdWeight = 0.9, bool logitStandardization = false)
    {
        LogitStandardizationEnabled = logitStandardization;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(temperature);
        ArgumentOutOfRangeException.ThrowIfNegative(ceWeight);
        ArgumentOutOfRangeException.ThrowIfNegative(kdWeight);
        Temperature = temperature;
        CeWeight = ceWeight;
        KdWeight = kdWeight;
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

    /// <summary>Whether the KD term z-scores both logit vectors first (§4).</summary>
    public bool LogitStandardizationEnabled { get; }

    /// <summary>KD + LS with the spec's CIFAR defaults: T = 2, w_ce = 0.1, w_kd = 9.</summary>
    public static KnowledgeDistillation WithLogitStandardization(double temperature = 2, double ceWeight = 0.1, double kdWeight = 9) =>
        new(temperature, ceWeight, kdWeight, logitStandardization: true);

    /// <summary>T² · KL(softmax(t/T) ‖ softmax(s/T)), summed over classes and averaged over the batch.</summary>
    public static Tensor KdLoss(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        var logStudent = F.LogSoftmax(studentLogits / temperature, 1);
        var teacher = F.Softmax(teacherLogits / temperature, 1);
        return F.KlDiv(logStudent, teacher, Reduction.BatchMean) * (temperature * temperature);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        var (student, target) = CompareLogits(inputs, LogitStandardizationEnabled);
        return new LossTerms()
            .Add("kd", KdLoss(student, target, Temperature) * KdWeight);
    }
}
