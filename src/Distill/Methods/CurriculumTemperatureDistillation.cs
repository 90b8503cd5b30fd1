using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// CTKD with the global temperature (Li et al., AAAI 2023; spec §5): one learnable θ (initialised to 1)
/// maps to T = t_start + t_end · sigmoid(GRL(θ)) (initial T = 15.6212), and KD at that T is
/// L = w_ce CE + w_kd T² KL(softmax(z_t/T) ‖ softmax(z_s/T)). The gradient reversal multiplies θ's
/// gradient by λ_e = λ_min + (λ_max − λ_min)(1 + cos(π min(e, E)/E))/2 (0 → −1 over E epochs), so the
/// temperature ascends the distillation loss while the student descends it. θ is trained by the run's
/// optimizer (weight decay included, as the original). With logit standardisation the KL sees z-scored
/// logits. Terms: "ce" and "kd". (The instance-wise temperature of the paper is not implemented yet.)
/// </summary>
public sealed class CurriculumTemperatureDistillation : Distiller
{
    private readonly Tensor _theta;

    /// <summary>Creates the method with the CIFAR defaults.</summary>
    public CurriculumTemperatureDistillation(double ceWeight = 0.1, double kdWeight = 0.9, double temperatureStart = 1, double temperatureRange = 20,
        int decayEpochs = 10, double lambdaMin = -1, double lambdaMax = 0, bool logitStandardization = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(temperatureRange);
        ArgumentOutOfRangeException.ThrowIfLessThan(decayEpochs, 1);
        CeWeight = ceWeight;
        KdWeight = kdWeight;
        TemperatureStart = temperatureStart;
        TemperatureRange = temperatureRange;
        DecayEpochs = decayEpochs;
        LambdaMin = lambdaMin;
        LambdaMax = lambdaMax;
        LogitStandardizationEnabled = logitStandardization;
        _theta = RegisterParameter("theta", Tensor.Ones([]))!;
        Lambda = LambdaAt(0);
    }

    /// <inheritdoc />
    public override string Name => "ctkd";

    /// <summary>Cross-entropy weight.</summary>
    public double CeWeight { get; }

    /// <summary>Distillation weight.</summary>
    public double KdWeight { get; }

    /// <summary>t_start: the lowest temperature.</summary>
    public double TemperatureStart { get; }

    /// <summary>t_end: the temperature range above t_start.</summary>
    public double TemperatureRange { get; }

    /// <summary>E: epochs over which λ goes from λ_max to λ_min.</summary>
    public int DecayEpochs { get; }

    /// <summary>λ_min (−1).</summary>
    public double LambdaMin { get; }

    /// <summary>λ_max (0).</summary>
    public double LambdaMax { get; }

    /// <summary>Whether the KL sees z-scored logits (§4).</summary>
    public bool LogitStandardizationEnabled { get; }

    /// <summary>The current λ (set by <see cref="OnEpochStart"/>).</summary>
    public double Lambda { get; private set; }

    /// <summary>The learnable θ.</summary>
    public Tensor Theta => _theta;

    /// <summary>λ for a 1-based epoch: the cosine curriculum of §5.2.</summary>
    public double LambdaAt(int epoch) =>
        LambdaMin + ((LambdaMax - LambdaMin) * (1 + Math.Cos(Math.PI * Math.Min(Math.Max(epoch, 0), DecayEpochs) / DecayEpochs)) / 2);

    /// <summary>The current temperature as a scalar tensor, through the gradient reversal.</summary>
    public Tensor Temperature() =>
        (Autograd.GradientReversal(_theta, -Lambda).Sigmoid() * TemperatureRange) + TemperatureStart;

    /// <inheritdoc />
    public override void OnEpochStart(int epoch, int totalEpochs) => Lambda = LambdaAt(epoch);

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        var (student, target) = CompareLogits(inputs, LogitStandardizationEnabled);
        var t = Temperature();
        var kl = F.KlDiv(F.LogSoftmax(student / t, 1), F.Softmax(target / t, 1), Reduction.BatchMean);
        return new LossTerms()
            .Add("ce", F.CrossEntropy(inputs.StudentLogits, inputs.Labels) * CeWeight)
            .Add("kd", kl * t.Square() * KdWeight);
    }
}
