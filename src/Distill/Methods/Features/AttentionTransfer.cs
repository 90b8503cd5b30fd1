using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Attention transfer (Zagoruyko and Komodakis, ICLR 2017): per stage, the attention map
/// a(f) = normalise_hw(mean_c f^p) of student and teacher (the larger map adaptive-average-pooled to the
/// smaller one's size first), L = w_ce CE + w Σ_stages mean((a_s − a_t)²). Defaults p = 2, w = 1000,
/// every stage output. Terms (the classification task adds "ce"): "at".
/// See docs/methods/at.md.
/// </summary>
public sealed class AttentionTransfer : Distiller
{
    private readonly string[] _taps;

    /// <summary>
    /// Creates the method from its options over their stage taps (same names on both networks; default: every stage
    /// output of the student in <paramref name="context"/>).
    /// </summary>
    public AttentionTransfer(Options options, MethodContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var taps = FeatureOps.TapsOrStages(options.Stages, (context ?? MethodContext.Empty).StudentStages, "at");
        ArgumentOutOfRangeException.ThrowIfZero(taps.Count);
        _taps = [.. taps];
        Weight = options.Weight;
        P = options.P;
        CeWeight = options.CeWeight;
    }

    /// <inheritdoc />
    public override string Name => "at";

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => _taps;

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps => _taps;

    /// <summary>The attention-loss weight.</summary>
    public double Weight { get; }

    /// <summary>The exponent p.</summary>
    public double P { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The attention map [B, H·W] of a feature map [B, C, H, W].</summary>
    public static Tensor AttentionMap(Tensor feature, double p)
    {
        ArgumentNullException.ThrowIfNull(feature);
        return F.Normalize(feature.Pow(p).Mean(1).Reshape([feature.Size(0), -1]), dim: 1);
    }

    /// <summary>mean((a(s) − a(t))²), the larger map pooled to the smaller one's size.</summary>
    public static Tensor StageLoss(Tensor student, Tensor teacher, double p)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        (student, teacher) = FeatureOps.MatchSpatial(student, teacher);
        return (AttentionMap(student, p) - AttentionMap(teacher, p)).Square().Mean();
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Tensor? sum = null;
        foreach (var tap in _taps)
        {
            var loss = StageLoss(inputs.Student(tap), inputs.Teacher(tap), P);
            sum = sum is null ? loss : sum + loss;
        }

        return new LossTerms()
            .Add("at", sum! * Weight);
    }

    /// <summary>The options of <c>at</c> (recipe keys, defaults: the authors' CIFAR recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The stage taps; empty: every stage output.</summary>
        [OptionInfo("stage taps to distil (default: every stage output)")]
        public IReadOnlyList<string> Stages { get; init; } = [];

        /// <summary>The attention-loss weight.</summary>
        [OptionInfo("attention-loss weight", Aliases = ["feat_weight", "beta"])]
        public double Weight { get; init; } = 1000;

        /// <summary>The exponent p.</summary>
        [OptionInfo("exponent p", Minimum = 1e-9)]
        public double P { get; init; } = 2;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds", Aliases = ["gamma"])]
        public double CeWeight { get; init; } = 1;
    }
}
