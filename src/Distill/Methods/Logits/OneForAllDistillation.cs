using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// One-for-All heterogeneous KD (Hao et al., NeurIPS 2023). Only the teacher's logits are used, so any
/// teacher works with any student (CNN → ViT, ViT → CNN). Each chosen student stage gets a projector to class
/// logits, and every logit vector is pulled toward the teacher with the adaptive target enhancement
/// L_ofa(s, t) = −(1/B) Σ_b Σ_k w_bk log softmax(s/τ)_bk, w = (softmax(t/τ) + m)^ε − m (m the one-hot label):
/// L = w_gt CE_ls(s, y) (label smoothing 0.1) + w_kd L_ofa(s, t; ε_last) + w_ofa Σ_i L_ofa(proj_i(f_i), t; ε_i).
/// Defaults: every stage, ε = [1] (one value for all stages and the logits, else one per stage plus one for the
/// logits; 1.5 for DeiT-T → ResNet18), τ = 1, weights 1.
/// <para>
/// Projectors as the official code (Hao840/OFAKD distillers/ofa.py), D = max(d_s, d_t) (the pooled sizes), r the
/// number of network stages after the chosen one (the official 4 − stage): for a CNN stage map [C, H, W], r SepConv
/// blocks (depthwise 3×3 stride 2 → pointwise → BN → ReLU → depthwise 3×3 → pointwise → BN → ReLU; channels double,
/// the last block gives D), the last stage a 1×1 conv to D; then global average pooling and Linear(D → K). For ViT
/// tokens [L, E] (one class token, E = d_s), ⌊log₂(⌊√L⌋ / 7)⌋ PatchMerging layers on the patch tokens (2×2 concat →
/// LayerNorm(eps 1e-5) → Linear(4E → E) without bias; GELU after each but the last of two or more), the class token
/// passing unchanged, then max(r, 1) of timm's ViT Block with its defaults (dim d_s, 4 heads, pre-norm LayerNorm eps 1e-5, q/k/v
/// without bias, MLP ratio 4 with exact GELU, no dropout, drop-path or layer scale), the class token and
/// Linear(d_s → K). Kaiming-normal (fan-out, ReLU) convs, BN 1 / 0, every Linear (the blocks' too) N(0, 0.02)
/// (timm's truncation at ±2 never binds at that std) with zero bias, LayerNorm 1 / 0. Terms (the classification task adds "ce"): "kd" and "ofa".
/// </para>
/// </summary>
public sealed class OneForAllDistillation : Distiller
{
    private readonly string[] _stages;
    private readonly double[] _eps;
    private readonly Sequential[] _projectors;

    /// <summary>
    /// Creates the method from its options: the student's stages (default: every stage output) with their shapes, K,
    /// and D (default: the larger pooled size) from <paramref name="context"/>; each projector's depth is the number of
    /// network stages after its stage (the official 4 - stage).
    /// </summary>
    /// <exception cref="ArgumentException">The ε list has the wrong length or a stage map is neither [B, C, H, W] nor [B, L, E].</exception>
    public OneForAllDistillation(Options options, MethodContext context)
        : this(options, Plan(options, context))
    {
    }

    private OneForAllDistillation(Options options, (string[] Stages, long[][] Shapes, long Classes, long Dim, long StudentDim, int[] After) plan)
        : this(options, plan.Stages, plan.Shapes, plan.Classes, plan.Dim, plan.StudentDim, plan.After)
    {
    }

    /// <summary>Creates the method for student stage taps of the given shapes (with batch dimension), K classes and projector width D.</summary>
    /// <param name="options">The options (their stages and projector width are not read: the other arguments give them).</param>
    /// <param name="stages">The student's stage taps.</param>
    /// <param name="stageShapes">Their shapes, [B, C, H, W] or [B, L, E].</param>
    /// <param name="numClasses">K.</param>
    /// <param name="projectorDim">D, the CNN projectors' width (max of the pooled sizes).</param>
    /// <param name="studentDim">d_s, the student's pooled size, which token stages must match (the official projector's width); 0: not checked.</param>
    /// <param name="stagesAfter">For each stage, how many network stages follow it (r); null: as if the chosen stages were all of them.</param>
    /// <exception cref="ArgumentException">The ε list has the wrong length or a stage map is neither [B, C, H, W] nor [B, L, E].</exception>
    internal OneForAllDistillation(Options options, IReadOnlyList<string> stages, IReadOnlyList<long[]> stageShapes, long numClasses, long projectorDim,
        long studentDim = 0, IReadOnlyList<int>? stagesAfter = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(stageShapes);
        var eps = options.Eps;
        ArgumentNullException.ThrowIfNull(eps);
        ArgumentOutOfRangeException.ThrowIfZero(stages.Count);
        if (eps.Count != 1 && eps.Count != stages.Count + 1)
        {
            throw new ArgumentException($"ofa: eps has {eps.Count} values; give one, or {stages.Count + 1} (one per stage, then the logits')", nameof(options));
        }

        _stages = [.. stages];
        _eps = eps.Count == 1 ? Enumerable.Repeat(eps[0], stages.Count + 1).ToArray() : [.. eps];
        Temperature = options.Temperature;
        GtWeight = options.GtWeight;
        KdWeight = options.KdWeight;
        OfaWeight = options.OfaWeight;
        LabelSmoothing = options.LabelSmoothing;
        var projectors = RegisterModule("projectors", new ModuleList());
        _projectors = new Sequential[stages.Count];
        for (var i = 0; i < stages.Count; i++)
        {
            var remaining = stagesAfter?[i] ?? stages.Count - 1 - i;
            _projectors[i] = stageShapes[i].Length switch
            {
                4 => OfaProjector.Cnn(stageShapes[i][1], remaining, projectorDim, numClasses),
                3 => OfaProjector.Token(stages[i], stageShapes[i][1], stageShapes[i][2], studentDim > 0 ? studentDim : stageShapes[i][2], Math.Max(remaining, 1), numClasses),
                _ => throw new ArgumentException($"ofa: the student's {stages[i]} has shape {Tensor.FormatShape(stageShapes[i])}; a map [B, C, H, W] or tokens [B, L, E] is needed"),
            };
            projectors.Add(_projectors[i]);
        }

        OfaProjector.Initialize(projectors);
    }

    /// <inheritdoc />
    public override string Name => "ofa";

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>The label-smoothed cross-entropy weight (<c>gt_weight</c>): the task-loss weight while OFA trains; the trainer adds that term.</summary>
    public double GtWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => GtWeight;

    /// <inheritdoc />
    public override double TaskLabelSmoothing => LabelSmoothing;

    /// <summary>The weight of the final logits' OFA term.</summary>
    public double KdWeight { get; }

    /// <summary>The weight of the stage projectors' OFA terms.</summary>
    public double OfaWeight { get; }

    /// <summary>Label smoothing of the cross-entropy (0.1).</summary>
    public double LabelSmoothing { get; }

    /// <summary>ε per stage, then the logits'.</summary>
    public IReadOnlyList<double> Eps => _eps;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => _stages;

    /// <summary>−(1/B) Σ w log softmax(s/τ), w = (softmax(t/τ) + onehot(y))^ε − onehot(y).</summary>
    public static Tensor OfaLoss(Tensor student, Tensor teacher, Tensor labels, double eps, double temperature = 1)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(labels);
        var target = F.OneHot(labels, student.Size(1)).To(student.DType);
        var p = F.Softmax(teacher / temperature, 1);
        var weight = (p + target).Pow(eps) - target;
        return -(weight * F.LogSoftmax(student / temperature, 1)).Sum() / student.Size(0);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var teacher = inputs.TeacherLogits ?? throw new InvalidOperationException("ofa needs teacher logits");
        Tensor? ofa = null;
        for (var i = 0; i < _stages.Length; i++)
        {
            var loss = OfaLoss(_projectors[i].Forward(inputs.Student(_stages[i])), teacher, inputs.Labels, _eps[i], Temperature);
            ofa = ofa is null ? loss : ofa + loss;
        }

        return new LossTerms()
            .Add("kd", OfaLoss(inputs.StudentLogits, teacher, inputs.Labels, _eps[^1], Temperature) * KdWeight)
            .Add("ofa", ofa! * OfaWeight);
    }

    /// <summary>The options of <c>ofa</c> (recipe keys, defaults: the authors' CIFAR-100 recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The student's stage taps to distil; empty: every stage output.</summary>
        [OptionInfo("stage taps to distil (default: every stage output; the official stage numbers 1, 2, ... mean stage1, stage2, ...)", Aliases = ["ofa_stage"])]
        public IReadOnlyList<string> Stages { get; init; } = [];

        /// <summary>ε: one value, or one per stage then the logits'.</summary>
        [OptionInfo("target-enhancement exponent: one value, or one per stage then the logits' (1.5 for DeiT-T -> ResNet18)", Aliases = ["ofa_eps"])]
        public IReadOnlyList<double> Eps { get; init; } = [1.0];

        /// <summary>τ.</summary>
        [OptionInfo("temperature tau", Minimum = 1e-9, Aliases = ["ofa_temperature"])]
        public double Temperature { get; init; } = 1;

        /// <summary>The task-loss weight (the label-smoothed cross-entropy).</summary>
        [OptionInfo("task-loss weight: the label-smoothed cross-entropy the trainer adds", Aliases = ["gt_loss_weight"])]
        public double GtWeight { get; init; } = 1;

        /// <summary>The weight of the final logits' OFA term.</summary>
        [OptionInfo("weight of the final logits' OFA term", Aliases = ["kd_loss_weight"])]
        public double KdWeight { get; init; } = 1;

        /// <summary>The weight of the stage projectors' OFA terms.</summary>
        [OptionInfo("weight of the stage projectors' OFA terms", Aliases = ["ofa_loss_weight"])]
        public double OfaWeight { get; init; } = 1;

        /// <summary>The cross-entropy's label smoothing.</summary>
        [OptionInfo("cross-entropy label smoothing", Aliases = ["smoothing"])]
        public double LabelSmoothing { get; init; } = 0.1;

        /// <summary>D, the CNN projector width; 0: the larger of the student's and teacher's pooled sizes.</summary>
        [OptionInfo("CNN projector width D (0: max of the student's and teacher's pooled sizes)")]
        public int ProjectorDim { get; init; }
    }

    // The registry's derivation: stage numbers as the official code's ("1" -> stage1), shapes, K, D and each projector's depth.
    private static (string[] Stages, long[][] Shapes, long Classes, long Dim, long StudentDim, int[] After) Plan(Options options, MethodContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var stages = FeatureOps.TapsOrStages(options.Stages.Select(st => int.TryParse(st, out var n) ? $"stage{n}" : st).ToArray(), context.StudentStages, "ofa");
        var dim = options.ProjectorDim > 0 ? options.ProjectorDim : Math.Max(context.StudentShape("pooled")[^1], context.TeacherShape("pooled")[^1]);

        // The official projector depth is 4 - stage: the number of network stages after the chosen one.
        var after = stages.Select((st, i) => Array.IndexOf([.. context.StudentStages], st) is var at and >= 0 ? context.StudentStages.Count - 1 - at : stages.Count - 1 - i).ToArray();
        return ([.. stages], stages.Select(context.StudentShape).ToArray(), context.StudentShape("logits")[^1], dim, context.StudentShape("pooled")[^1], after);
    }
}
