using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Structured knowledge distillation on a one-stage detector (FCOS), as the authors extended it (SKD repository,
/// issue #27): a pair-wise term on FPN levels and a pixel-wise term on each level's class logits, both weight 1.
/// <list type="bullet">
/// <item>Pair-wise (the cvpr_19 branch's CriterionSDcos_no): per level and image the full HW × HW cosine-similarity
/// matrix of the positions' channel vectors, a_ij = ⟨x_i, x_j⟩ / (‖x_i‖ ‖x_j‖) (no pooling, no epsilon: a zero vector
/// gives NaN, as there), and the mean squared difference between the student's and the teacher's matrices (MSE mean).
/// The levels' losses are summed.</item>
/// <item>Pixel-wise (CriterionKD): at every location of a level's class logits [B, K, H, W], a softmax over the K
/// classes at temperature T (1), KL(p_T ‖ p_S) averaged over all B·K·H·W elements (PyTorch's default element mean),
/// times T²; the levels' losses are summed.</item>
/// </list>
/// Defaults: every FPN level (fpn.pN) for the pair-wise term and the class logits cls_logits.pN of the same levels.
/// The segmentation method <c>skd</c> is unchanged. Terms (the detection task adds its own): "pair", "pixel".
/// See docs/methods/skd_det.md.
/// </summary>
public sealed class StructuredDetectionDistillation : Distiller
{
    private readonly string[] _pairTaps;
    private readonly string[] _logitTaps;

    /// <summary>Creates the method from its options and the networks' tap shapes in <paramref name="context"/>.</summary>
    /// <exception cref="ArgumentException">A tap is not a map, the student's and teacher's maps of a tap differ in size (or, for logits, in shape), or no taps are named and the student has no FPN levels.</exception>
    public StructuredDetectionDistillation(Options options, MethodContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Temperature);
        var levels = context.StudentFpnLevels;
        if ((options.PairTaps.Count == 0 || options.LogitTaps.Count == 0) && levels.Count == 0)
        {
            throw new ArgumentException("skd_det: the student publishes no FPN levels (taps fpn.p3, ...); name the maps with pair_taps and logit_taps");
        }

        _pairTaps = options.PairTaps.Count > 0 ? [.. options.PairTaps] : [.. levels];
        _logitTaps = options.LogitTaps.Count > 0 ? [.. options.LogitTaps] : [.. levels.Select(l => "cls_logits." + l["fpn.".Length..])];
        foreach (var tap in _pairTaps)
        {
            var s = FeatureOps.RequireMap(context.StudentShape(tap), "skd_det", "student", tap);
            var t = FeatureOps.RequireMap(context.TeacherShape(tap), "skd_det", "teacher", tap);
            if (s[2] != t[2] || s[3] != t[3])
            {
                throw new ArgumentException($"skd_det: the student's {tap} {Tensor.FormatShape(s)} and the teacher's {Tensor.FormatShape(t)} must have the same H x W (their similarity matrices are compared)");
            }
        }

        foreach (var tap in _logitTaps)
        {
            var s = FeatureOps.RequireMap(context.StudentShape(tap), "skd_det", "student", tap);
            var t = FeatureOps.RequireMap(context.TeacherShape(tap), "skd_det", "teacher", tap);
            if (!s.Skip(1).SequenceEqual(t.Skip(1)))
            {
                throw new ArgumentException($"skd_det: the student's class logits {tap} {Tensor.FormatShape(s)} and the teacher's {Tensor.FormatShape(t)} must have the same shape");
            }
        }

        PairWeight = options.PairWeight;
        PixelWeight = options.PixelWeight;
        Temperature = options.Temperature;
        CeWeight = options.CeWeight;
    }

    /// <inheritdoc />
    public override string Name => "skd_det";

    /// <summary>The weight of the pair-wise term.</summary>
    public double PairWeight { get; }

    /// <summary>The weight of the pixel-wise term.</summary>
    public double PixelWeight { get; }

    /// <summary>The pixel-wise temperature.</summary>
    public double Temperature { get; }

    /// <summary>The task-loss weight.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The FPN maps of the pair-wise term.</summary>
    public IReadOnlyList<string> PairTaps => _pairTaps;

    /// <summary>The class-logit maps of the pixel-wise term.</summary>
    public IReadOnlyList<string> LogitTaps => _logitTaps;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => [.. _pairTaps.Concat(_logitTaps).Distinct()];

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps => StudentTaps;

    /// <summary>Cos_Attn_no: the [B, HW, HW] cosine similarities of a map's positions, ⟨x_i, x_j⟩ / (‖x_i‖ ‖x_j‖), without an epsilon.</summary>
    public static Tensor CosineGraph(Tensor map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var (b, c) = (map.Size(0), map.Size(1));
        var key = map.Reshape([b, c, -1]);
        var query = key.Permute(0, 2, 1);
        var norm = query.Norm(2, [2]);
        var nm = norm.Unsqueeze(2).Bmm(norm.Unsqueeze(1));
        return query.Bmm(key) / nm;
    }

    /// <summary>CriterionKD on a level's class logits: KL(softmax_K(t/T) ‖ softmax_K(s/T)) averaged over every element, times T².</summary>
    public static Tensor PixelLoss(Tensor student, Tensor teacher, double temperature)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        return F.KlDiv(F.LogSoftmax(student / temperature, 1), F.Softmax(teacher.Detach() / temperature, 1), Reduction.Mean) * (temperature * temperature);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var terms = new LossTerms();
        if (PairWeight != 0)
        {
            var pair = _pairTaps.Select(t => F.MseLoss(CosineGraph(inputs.Student(t)), CosineGraph(inputs.Teacher(t).Detach()))).Aggregate((x, y) => x + y);
            terms.Add("pair", pair * PairWeight);
        }

        if (PixelWeight != 0)
        {
            var pixel = _logitTaps.Select(t => PixelLoss(inputs.Student(t), inputs.Teacher(t), Temperature)).Aggregate((x, y) => x + y);
            terms.Add("pixel", pixel * PixelWeight);
        }

        return terms;
    }

    /// <summary>The options of <c>skd_det</c> (recipe keys, defaults: the authors' FCOS setting).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The FPN maps of the pair-wise term; empty: every FPN level.</summary>
        [OptionInfo("FPN maps of the pair-wise term, the same name on both networks (default: every FPN level fpn.pN; the authors' posted code skips the first)")]
        public IReadOnlyList<string> PairTaps { get; init; } = [];

        /// <summary>The class-logit maps of the pixel-wise term; empty: cls_logits.pN of every FPN level.</summary>
        [OptionInfo("class-logit maps [B, K, H, W] of the pixel-wise term (default: cls_logits.pN of every FPN level)")]
        public IReadOnlyList<string> LogitTaps { get; init; } = [];

        /// <summary>The pair-wise weight.</summary>
        [OptionInfo("weight of the pair-wise term (0 turns it off)", Aliases = ["lambda_pa"])]
        public double PairWeight { get; init; } = 1;

        /// <summary>The pixel-wise weight.</summary>
        [OptionInfo("weight of the pixel-wise term (0 turns it off)", Aliases = ["lambda_pi"])]
        public double PixelWeight { get; init; } = 1;

        /// <summary>The pixel-wise temperature.</summary>
        [OptionInfo("temperature of the pixel-wise class softmax", Minimum = 1e-9)]
        public double Temperature { get; init; } = 1;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the detection loss the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
