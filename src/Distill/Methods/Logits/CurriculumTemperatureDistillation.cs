using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Curriculum temperature KD (Li et al., AAAI 2023). The temperature is learned adversarially:
/// T = t_start + t_end · sigmoid(GRL(θ)), the gradient reversal multiplying θ's gradient by
/// λ_e = λ_min + (λ_max − λ_min)(1 + cos(π min(e, E)/E))/2 (0 → −1 over E epochs), so the temperature ascends
/// the distillation loss while the student descends it; θ is trained by the run's optimizer (weight decay
/// included, as the original).
/// <para>Global mode (the official code): one θ initialised to 1 (initial T = 15.6212) for the whole batch.</para>
/// <para>
/// Instance mode (the paper's instance-wise temperature; the official code does not include it, so this design
/// is ours, from the paper's description): a two-layer MLP — Linear(2K → hidden) → ReLU → Linear(hidden → 1) —
/// reads the detached softmax predictions of student and teacher, concatenated, and gives each sample its θ_i,
/// mapped through the same GRL and sigmoid range. The output bias starts at 1, so every T_i starts near the
/// global initial 15.62. Inputs are detached: the temperature module never back-propagates into the student.
/// The per-sample loss is (1/B) Σ_i T_i² Σ_k p_ik (log p_ik − log_softmax(z_s,i/T_i)_k) with
/// p_i = softmax(z_t,i/T_i) + 1e-7, as the README's instance-wise loss (docs/methods/ctkd.md).
/// </para>
/// <para>
/// Base "kd": L = w_ce CE + w_kd T² KL(softmax(z_t/T) ‖ softmax(z_s/T)) (CIFAR 0.1 / 0.9). Base "dkd": DKD at
/// the learned temperature, L = w_ce CE + w_kd (α TCKD + β NCKD) (the authors' DKD+CTKD script: CE 1, weight 1,
/// α 1, β 2). The authors' CTKD has no DKD warm-up, so none is the default; a warm-up of W epochs, if asked
/// for, scales the DKD term by min(epoch / W, 1) as DKD's own code does. With logit standardisation the
/// distillation term sees z-scored logits.
/// Terms (the classification task adds "ce"): "kd" (or "dkd").
/// </para>
/// </summary>
public sealed class CurriculumTemperatureDistillation : Distiller
{
    private readonly Tensor? _theta;
    private readonly Sequential? _temperatureModule;

    /// <summary>
    /// Creates the method from its options (defaults: the CIFAR recipe, global temperature, KD base); an instance-wise
    /// temperature reads the number of classes from the student's logits in <paramref name="context"/>.
    /// </summary>
    public CurriculumTemperatureDistillation(Options? options = null, MethodContext? context = null)
    {
        options ??= new Options();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.TRange);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DecayEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Warmup);
        if (options.Base is not ("kd" or "dkd"))
        {
            throw new ArgumentException($"ctkd: base '{options.Base}' is not kd or dkd", nameof(options));
        }

        CeWeight = options.ResolvedCeWeight;
        KdWeight = options.ResolvedKdWeight;
        TemperatureStart = options.TStart;
        TemperatureRange = options.TRange;
        DecayEpochs = options.DecayEpochs;
        LambdaMin = options.LambdaMin;
        LambdaMax = options.LambdaMax;
        LogitStandardizationEnabled = options.LogitStandardization;
        BaseMethod = options.Base;
        Alpha = options.Alpha;
        Beta = options.Beta;
        WarmupEpochs = options.Warmup;
        var instanceClasses = options.TemperatureMode == "instance" ? (int)(context ?? MethodContext.Empty).StudentShape("logits")[^1] : 0;
        var instanceHidden = options.InstanceHidden;
        if (instanceClasses > 0)
        {
            var output = new Linear(instanceHidden, 1);
            using (Autograd.NoGrad())
            {
                output.Bias!.FillInPlace(1);
            }

            _temperatureModule = RegisterModule("temperature_module", new Sequential(new Linear(2L * instanceClasses, instanceHidden), new ReLU(), output));
        }
        else
        {
            _theta = RegisterParameter("theta", Tensor.Ones([]))!;
        }

        Lambda = LambdaAt(0);
    }

    /// <inheritdoc />
    public override string Name => "ctkd";

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

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

    /// <summary>Whether the KL sees z-scored logits (logit standardisation, docs/methods/kd.md).</summary>
    public bool LogitStandardizationEnabled { get; }

    /// <summary>The current λ (set by <see cref="OnEpochStart"/>).</summary>
    public double Lambda { get; private set; }

    /// <summary>The learnable θ (global mode).</summary>
    /// <exception cref="InvalidOperationException">The method is instance-wise.</exception>
    public Tensor Theta => _theta ?? throw new InvalidOperationException("ctkd: an instance-wise temperature has no global θ");

    /// <summary>Whether each sample gets its own temperature.</summary>
    public bool InstanceWise => _temperatureModule is not null;

    /// <summary>"kd" or "dkd".</summary>
    public string BaseMethod { get; }

    /// <summary>DKD's α (base dkd).</summary>
    public double Alpha { get; }

    /// <summary>DKD's β (base dkd).</summary>
    public double Beta { get; }

    /// <summary>DKD's warm-up in epochs (base dkd); 0 (the default, as the authors' CTKD): none.</summary>
    public int WarmupEpochs { get; }

    /// <summary>λ for a 1-based epoch: the cosine curriculum (docs/methods/ctkd.md).</summary>
    public double LambdaAt(int epoch) =>
        LambdaMin + ((LambdaMax - LambdaMin) * (1 + Math.Cos(Math.PI * Math.Min(Math.Max(epoch, 0), DecayEpochs) / DecayEpochs)) / 2);

    /// <summary>The current global temperature as a scalar tensor, through the gradient reversal.</summary>
    public Tensor Temperature() => Map(Theta);

    /// <summary>Per-sample temperatures [B, 1] from the detached predictions (instance mode).</summary>
    public Tensor Temperatures(Tensor studentLogits, Tensor teacherLogits)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        var module = _temperatureModule ?? throw new InvalidOperationException("ctkd: a global temperature has no temperature module");
        var features = Tensor.Cat([F.Softmax(studentLogits.Detach(), 1), F.Softmax(teacherLogits.Detach(), 1)], 1);
        return Map(module.Forward(features));
    }

    /// <inheritdoc />
    public override void OnEpochStart(int epoch, int totalEpochs) => Lambda = LambdaAt(epoch);

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        var (student, target) = CompareLogits(inputs, LogitStandardizationEnabled);
        var t = InstanceWise ? Temperatures(student, target) : Temperature();
        if (BaseMethod == "dkd")
        {
            var (tckd, nckd) = DecoupledKnowledgeDistillation.RowTerms(student, target, inputs.Labels, t);
            var warmup = DecoupledKnowledgeDistillation.WarmupFactor(inputs.Epoch, WarmupEpochs);
            return new LossTerms().Add("dkd", ((tckd * Alpha) + (nckd * Beta)).Mean() * (KdWeight * warmup));
        }

        Tensor kd;
        if (InstanceWise)
        {
            var p = F.Softmax(target / t, 1) + 1e-7;
            var rows = (p * (p.Log() - F.LogSoftmax(student / t, 1))).Sum(1);
            kd = (rows * t.Square().Reshape([-1])).Mean();
        }
        else
        {
            kd = F.KlDiv(F.LogSoftmax(student / t, 1), F.Softmax(target / t, 1), Reduction.BatchMean) * t.Square();
        }

        return new LossTerms().Add("kd", kd * KdWeight);
    }

    private Tensor Map(Tensor theta) => (Autograd.GradientReversal(theta, -Lambda).Sigmoid() * TemperatureRange) + TemperatureStart;

    /// <summary>The options of <c>ctkd</c> (recipe keys, defaults: the CIFAR recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The distillation loss at the learned temperature: "kd" or "dkd".</summary>
        [OptionInfo("the distillation loss at the learned temperature", Choices = ["kd", "dkd"])]
        public string Base { get; init; } = "kd";

        /// <summary>"global" or "instance".</summary>
        [OptionInfo("one learned temperature, or one per sample from a small MLP (our design from the paper)", Choices = ["global", "instance"])]
        public string TemperatureMode { get; init; } = "global";

        /// <summary>The task-loss weight; null: <see cref="ResolvedCeWeight"/> (0.1, or 1 with base dkd).</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds (1 with base dkd unless given)", Aliases = ["gamma"], ResolvedBy = nameof(ResolvedCeWeight))]
        public double? CeWeight { get; init; }

        /// <summary>The distillation weight; null: <see cref="ResolvedKdWeight"/> (0.9, or 1 with base dkd).</summary>
        [OptionInfo("distillation weight (1 with base dkd unless given)", ResolvedBy = nameof(ResolvedKdWeight))]
        public double? KdWeight { get; init; }

        /// <summary>DKD's alpha (base dkd).</summary>
        [OptionInfo("DKD's alpha (base dkd)", Aliases = ["dkd_alpha"])]
        public double Alpha { get; init; } = 1;

        /// <summary>DKD's beta (base dkd).</summary>
        [OptionInfo("DKD's beta (base dkd)", Aliases = ["dkd_beta"])]
        public double Beta { get; init; } = 2;

        /// <summary>DKD's warm-up epochs (base dkd).</summary>
        [OptionInfo("DKD's warm-up epochs (base dkd); 0: none, as the authors' CTKD")]
        public int Warmup { get; init; }

        /// <summary>The lowest temperature.</summary>
        [OptionInfo("lowest temperature")]
        public double TStart { get; init; } = 1;

        /// <summary>The temperature range above <see cref="TStart"/>.</summary>
        [OptionInfo("temperature range above t_start", Minimum = 1e-9, Aliases = ["t_end"])]
        public double TRange { get; init; } = 20;

        /// <summary>Epochs over which lambda goes from lambda_max to lambda_min.</summary>
        [OptionInfo("epochs over which lambda goes from lambda_max to lambda_min (5 on ImageNet)", Minimum = 1, Aliases = ["decay_loops"])]
        public int DecayEpochs { get; init; } = 10;

        /// <summary>The final gradient-reversal factor.</summary>
        [OptionInfo("final gradient-reversal factor", Minimum = double.NegativeInfinity, Aliases = ["decay_min"])]
        public double LambdaMin { get; init; } = -1;

        /// <summary>The initial gradient-reversal factor.</summary>
        [OptionInfo("initial gradient-reversal factor", Minimum = double.NegativeInfinity, Aliases = ["decay_max"])]
        public double LambdaMax { get; init; }

        /// <summary>The hidden width of the instance-wise temperature MLP.</summary>
        [OptionInfo("hidden width of the instance-wise temperature MLP", Minimum = 1)]
        public int InstanceHidden { get; init; } = 128;

        /// <summary>Whether both logit vectors are z-scored first.</summary>
        [OptionInfo(Methods.LogitStandardization.OptionDescription)]
        public bool LogitStandardization { get; init; }

        /// <summary>The task-loss weight: <see cref="CeWeight"/> when given, else 1 with base dkd (the authors' DKD+CTKD script), else 0.1.</summary>
        public double ResolvedCeWeight => CeWeight ?? (Base == "dkd" ? 1 : 0.1);

        /// <summary>The distillation weight: <see cref="KdWeight"/> when given, else 1 with base dkd, else 0.9.</summary>
        public double ResolvedKdWeight => KdWeight ?? (Base == "dkd" ? 1 : 0.9);
    }
}
