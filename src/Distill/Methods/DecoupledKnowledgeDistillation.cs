using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Decoupled knowledge distillation (Zhao et al., CVPR 2022; spec §14.1, as mdistiller): KD split into a
/// target-class term TCKD = T² KL(b_t ‖ b_s) over the binary [p_y, 1 - p_y] and a non-target term
/// NCKD = T² KL(p̂_t ‖ p̂_s) over the softmax of the other classes (the target logit pushed down by 1000),
/// both summed and divided by the batch. L = w_ce CE + min(epoch / warmup, 1) (α TCKD + β NCKD).
/// CIFAR defaults: α = 1, β = 8, T = 4, w_ce = 1, warm-up 20 epochs. Terms: "ce" and "dkd".
/// </summary>
public sealed class DecoupledKnowledgeDistillation : Distiller
{
    /// <summary>Creates the method.</summary>
    public DecoupledKnowledgeDistillation(double alpha = 1, double beta = 8, double temperature = 4, double ceWeight = 1, int warmupEpochs = 20,
        bool logitStandardization = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(temperature);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupEpochs);
        Alpha = alpha;
        Beta = beta;
        Temperature = temperature;
        CeWeight = ceWeight;
        WarmupEpochs = warmupEpochs;
        LogitStandardizationEnabled = logitStandardization;
    }

    /// <inheritdoc />
    public override string Name => "dkd";

    /// <summary>Weight of the target-class term.</summary>
    public double Alpha { get; }

    /// <summary>Weight of the non-target term.</summary>
    public double Beta { get; }

    /// <summary>Temperature.</summary>
    public double Temperature { get; }

    /// <summary>Cross-entropy weight.</summary>
    public double CeWeight { get; }

    /// <summary>Epochs over which the DKD weight ramps up linearly (1-based epochs).</summary>
    public int WarmupEpochs { get; }

    /// <summary>Whether both logit vectors are z-scored first (§4; DKD + LS also scales α and β by the KD weight).</summary>
    public bool LogitStandardizationEnabled { get; }

    /// <summary>TCKD and NCKD (each already T²-scaled and averaged over the batch).</summary>
    public static (Tensor Tckd, Tensor Nckd) Terms(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentNullException.ThrowIfNull(labels);
        var batch = studentLogits.Size(0);
        var target = F.OneHot(labels, studentLogits.Size(1)).To(studentLogits.DType);
        var other = 1.0 - target;
        var ps = F.Softmax(studentLogits / temperature, 1);
        var pt = F.Softmax(teacherLogits / temperature, 1);
        var bs = Tensor.Cat([(ps * target).Sum(1, keepDim: true), (ps * other).Sum(1, keepDim: true)], 1);
        var bt = Tensor.Cat([(pt * target).Sum(1, keepDim: true), (pt * other).Sum(1, keepDim: true)], 1);
        var scale = temperature * temperature / batch;
        // The binary student vector can underflow to 0 for a confident student (spec §14.1: guard the log).
        var tckd = F.KlDiv(bs.ClampMin(1e-30).Log(), bt, Reduction.Sum) * scale;
        var teacherOthers = F.Softmax((teacherLogits / temperature) - (target * 1000.0), 1);
        var studentOthers = F.LogSoftmax((studentLogits / temperature) - (target * 1000.0), 1);
        var nckd = F.KlDiv(studentOthers, teacherOthers, Reduction.Sum) * scale;
        return (tckd, nckd);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        var (student, target) = CompareLogits(inputs, LogitStandardizationEnabled);
        var (tckd, nckd) = Terms(student, target, inputs.Labels, Temperature);
        var warmup = WarmupEpochs == 0 ? 1.0 : Math.Min((double)inputs.Epoch / WarmupEpochs, 1.0);
        return new LossTerms()
            .Add("ce", F.CrossEntropy(inputs.StudentLogits, inputs.Labels) * CeWeight)
            .Add("dkd", ((tckd * Alpha) + (nckd * Beta)) * warmup);
    }
}
