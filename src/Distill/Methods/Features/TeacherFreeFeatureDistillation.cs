using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Teacher-free feature distillation (Lujun Li, ECCV 2022, as its train_kd.py): over the
/// student's stage maps f_1..f_n (shallow to deep), an intra-layer term (channels ranked by the mean of
/// their L2-normalised spatial maps; MSE between the top ⌊C/2⌋ and the bottom ⌊C/2⌋ channels, both with
/// gradient) averaged over the maps, and an inter-layer term (for every pair i &lt; j, the shallower map
/// average-pooled to the deeper one's size, MSE over the first min(C_i, C_j) channels against the detached
/// deeper map) averaged over the pairs. L = CE + min(1, epoch / warmup) (λ_inter L_inter + λ_intra L_intra),
/// λ_intra = 0.0008, λ_inter = 0.0005, warm-up 20 epochs; λ_inter weighs the inter term (the seed's README
/// multiplies it by λ_intra, a bug not copied). `tfd` needs no teacher; `tfd+` adds the warmed-up logit KD
/// term λ_kd T² KL(softmax(z_t/T) ‖ softmax(z_s/T)) at T = 4. Any channel counts work; maps of equal H×W (a dilated
/// backbone's stages) skip the pooling, only the channel slicing remains. <c>warmup_iters</c> counts the warm-up in
/// iterations instead of epochs (segmentation schedules). Terms (the task adds "ce"):
/// "tfd_intra", "tfd_inter" (and "kd" for tfd+).
/// See docs/methods/tfd.md.
/// </summary>
public sealed class TeacherFreeFeatureDistillation : Distiller
{
    private readonly string[] _taps;

    /// <summary>
    /// Creates the method from its options (<see cref="Options"/>: tfd; <see cref="PlusOptions"/>: tfd+, with logit KD)
    /// over their student taps, shallow to deep (default: every stage output of the student in <paramref name="context"/>).
    /// </summary>
    public TeacherFreeFeatureDistillation(CommonOptions options, MethodContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plus = options as PlusOptions;
        var taps = FeatureOps.TapsOrStages(options.Stages, (context ?? MethodContext.Empty).StudentStages, plus is null ? "tfd" : "tfd+");
        ArgumentOutOfRangeException.ThrowIfZero(taps.Count);
        if (plus is not null)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(plus.Temperature);
        }

        _taps = [.. taps];
        LambdaIntra = options.LambdaIntra;
        LambdaInter = options.LambdaInter;
        WarmupEpochs = options.Warmup;
        WarmupIterations = options.WarmupIters;
        WithKd = plus is not null;
        KdWeight = plus?.KdWeight ?? 0;
        Temperature = plus?.Temperature ?? 0;
        CeWeight = options.CeWeight;
    }

    /// <inheritdoc />
    public override string Name => WithKd ? "tfd+" : "tfd";

    /// <inheritdoc />
    public override bool NeedsTeacher => WithKd;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => _taps;

    /// <summary>λ_intra.</summary>
    public double LambdaIntra { get; }

    /// <summary>λ_inter.</summary>
    public double LambdaInter { get; }

    /// <summary>Epochs of the linear warm-up of the whole Tf-FD (and KD) term.</summary>
    public int WarmupEpochs { get; }

    /// <summary>Iterations of the linear warm-up instead (0: the warm-up counts epochs).</summary>
    public int WarmupIterations { get; }

    /// <summary>Whether logit KD from a teacher is added (tfd+).</summary>
    public bool WithKd { get; }

    /// <summary>λ_kd (tfd+; 0 for tfd).</summary>
    public double KdWeight { get; }

    /// <summary>The KD temperature (tfd+; 0 for tfd).</summary>
    public double Temperature { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The intra-layer term of one map [B, C, H, W].</summary>
    public static Tensor Intra(Tensor feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        var (b, c) = (feature.Size(0), feature.Size(1));
        var half = c / 2;
        if (half == 0)
        {
            throw new ArgumentException($"tfd: a map with {c} channel cannot be split into halves ({Tensor.FormatShape(feature.Shape)})", nameof(feature));
        }

        Tensor order;
        using (Autograd.NoGrad())
        {
            var scores = F.Normalize(feature.Detach().Reshape([b, c, -1]), dim: 2).Mean([0, 2]);
            order = scores.Sort(0, descending: true, stable: true).Indices;
        }

        var ranked = feature.IndexSelect(1, order);
        return F.MseLoss(ranked.Narrow(1, 0, half), ranked.Narrow(1, c - half, half));
    }

    /// <summary>The inter-layer term of a shallower map and a deeper one (the deeper one detached).</summary>
    public static Tensor Inter(Tensor shallow, Tensor deep)
    {
        ArgumentNullException.ThrowIfNull(shallow);
        ArgumentNullException.ThrowIfNull(deep);
        var (a, b) = FeatureOps.MatchSpatial(shallow, deep.Detach());
        var channels = Math.Min(a.Size(1), b.Size(1));
        return F.MseLoss(a.Narrow(1, 0, channels), b.Narrow(1, 0, channels));
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var maps = _taps.Select(inputs.Student).ToArray();
        var intra = maps.Select(Intra).Aggregate((x, y) => x + y) / maps.Length;
        var warmup = WarmupFactor(inputs);
        var terms = new LossTerms()
            .Add("tfd_intra", intra * (warmup * LambdaIntra));
        if (maps.Length > 1)
        {
            var pairs = new List<Tensor>();
            for (var i = 0; i < maps.Length; i++)
            {
                for (var j = i + 1; j < maps.Length; j++)
                {
                    pairs.Add(Inter(maps[i], maps[j]));
                }
            }

            terms.Add("tfd_inter", pairs.Aggregate((x, y) => x + y) * (warmup * LambdaInter / pairs.Count));
        }

        if (WithKd)
        {
            var teacher = inputs.TeacherLogits ?? throw new InvalidOperationException("tfd+ needs teacher logits");
            terms.Add("kd", KnowledgeDistillation.KdLoss(inputs.StudentLogits, teacher, Temperature) * (warmup * KdWeight));
        }

        return terms;
    }

    /// <summary>min(iteration / warmup_iters, 1) with a warm-up in iterations, else min(epoch / warmup, 1).</summary>
    /// <exception cref="ArgumentException">The warm-up counts iterations and the step does not say which it is.</exception>
    public double WarmupFactor(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (WarmupIterations == 0)
        {
            return DecoupledKnowledgeDistillation.WarmupFactor(inputs.Epoch, WarmupEpochs);
        }

        return inputs.Iteration < 1
            ? throw new ArgumentException($"{Name}: warmup_iters {WarmupIterations} needs the step's iteration (1-based), and this step does not carry one", nameof(inputs))
            : Math.Min((double)inputs.Iteration / WarmupIterations, 1.0);
    }

    /// <summary>The options tfd and tfd+ share (recipe keys, defaults: the author's CIFAR recipe).</summary>
    public abstract record CommonOptions : MethodOptions
    {
        /// <summary>The student taps, shallow to deep; empty: every stage output.</summary>
        [OptionInfo("stage taps to distil (default: every stage output, after ReLU)")]
        public IReadOnlyList<string> Stages { get; init; } = [];

        /// <summary>The weight of the intra-layer term.</summary>
        [OptionInfo("weight of the intra-layer (channel ranking) term")]
        public double LambdaIntra { get; init; } = 0.0008;

        /// <summary>The weight of the inter-layer term.</summary>
        [OptionInfo("weight of the inter-layer (cross-stage) term")]
        public double LambdaInter { get; init; } = 0.0005;

        /// <summary>Epochs of linear warm-up of the whole term.</summary>
        [OptionInfo("epochs of linear warm-up of the whole term", Aliases = ["kd_warm_up"])]
        public int Warmup { get; init; } = 20;

        /// <summary>Iterations of linear warm-up instead of epochs; 0: <see cref="Warmup"/> epochs.</summary>
        [OptionInfo("iterations of linear warm-up instead (segmentation: 1/12 of the schedule); 0: warmup counts epochs", Minimum = 0)]
        public int WarmupIters { get; init; }

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds")]
        public double CeWeight { get; init; } = 1;

    }

    /// <summary>The options of <c>tfd</c>: no teacher.</summary>
    public sealed record Options : CommonOptions
    {
        /// <inheritdoc />
        public override bool NeedsTeacher => false;
    }

    /// <summary>The options of <c>tfd+</c>: tfd's, then the logit KD's.</summary>
    public sealed record PlusOptions : CommonOptions
    {
        /// <summary>λ_kd, the logit KD weight.</summary>
        [OptionInfo("lambda_kd, the logit KD weight", Aliases = ["lambda_kd"])]
        public double KdWeight { get; init; } = 1;

        /// <summary>The KD temperature.</summary>
        [OptionInfo("KD temperature", Minimum = 1e-9, Aliases = ["T"])]
        public double Temperature { get; init; } = 4;

        /// <inheritdoc />
        public override bool NeedsTeacher => true;
    }
}
