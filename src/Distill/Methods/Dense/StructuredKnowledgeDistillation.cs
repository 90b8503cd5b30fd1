using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Structured knowledge distillation for dense prediction (Liu et al., CVPR 2019; the master branch of
/// irfanICMLL/structure_knowledge_distillation, <c>utils/criterion.py</c>, <c>networks/sagan_models.py</c>,
/// <c>networks/kd_model.py</c>), three terms, each off at weight 0:
/// <list type="bullet">
/// <item>"pixel" (CriterionPixelWise): λ_pi · Σ over every pixel of the batch of −softmax(T)·log softmax(S) over the
/// classes (T = 1, the logit maps permuted to NHWC first), divided by h·w only.</item>
/// <item>"pair" (CriterionPairWiseforWholeFeatAfterPool on the <c>context</c> tap): both maps max-pooled with
/// kernel = stride = (⌊H·s⌋, ⌊W·s⌋), ceil mode, into M nodes; each node's C-vector divided by its detached L2 norm
/// + 1e-8; A = F̂ᵀF̂ [M, M]; λ_pa · Σ (A_T − A_S)² / M² / B.</item>
/// <item>"holistic": a discriminator D (<see cref="ScoreMapDiscriminator"/>) scores the raw logit maps; the student's
/// term is −λ_d · mean D(S).</item>
/// </list>
/// D is trained by the method's own optimizer (<see cref="IHasOwnOptimizer"/>) after the student's step on the same
/// batch, on detached maps: "d_adv" = λ_d (mean D(S) − mean D(T)) (WGAN) or λ_d (mean ReLU(1 − D(T)) + mean ReLU(1 +
/// D(S))) (hinge), and with WGAN-GP "d_gp" = λ_d λ_gp mean_b (‖∇_x̂ D(x̂)‖ − 1)², x̂ = αT + (1 − α)S, α ~ U(0, 1) per sample
/// (random.alpha); D sees T, then S, then x̂, as the official D step. "d_real" and "d_fake" log mean D(T) and mean D(S)
/// of that step (detached: no gradient). No discriminator exists when λ_d = 0. See docs/methods/skd.md.
/// </summary>
public sealed class StructuredKnowledgeDistillation : Distiller, IHasOwnOptimizer
{
    /// <summary>The ε added to a node's norm in the pair-wise term.</summary>
    public const double NodeNormEps = 1e-8;

    private readonly ScoreMapDiscriminator? _discriminator;
    private readonly Options _options;

    /// <summary>Creates the method; the pair-wise term reads the taps' shapes, the discriminator the logit maps' ("logits").</summary>
    /// <exception cref="ArgumentException">A map does not fit (the message says which and why).</exception>
    /// <exception cref="KeyNotFoundException">A tap the method needs is unknown to <paramref name="context"/>.</exception>
    public StructuredKnowledgeDistillation(Options options, MethodContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        _options = options;
        if (options.PairWeight > 0)
        {
            var student = context.StudentShape(options.StudentTap);
            var teacher = context.TeacherShape(options.TeacherTap);
            if (student.Length != 4 || teacher.Length != 4 || student[2] != teacher[2] || student[3] != teacher[3])
            {
                throw new ArgumentException($"skd: the pair-wise term needs maps [B, C, H, W] of the same H x W; the student's {options.StudentTap} is {Tensor.FormatShape(student)} and the teacher's {options.TeacherTap} {Tensor.FormatShape(teacher)}");
            }

            if ((long)(teacher[2] * options.PoolScale) < 1 || (long)(teacher[3] * options.PoolScale) < 1)
            {
                throw new ArgumentException($"skd: pool_scale {options.PoolScale} makes an empty pooling patch on the {teacher[2]}x{teacher[3]} maps of {options.TeacherTap}");
            }
        }

        if (options.HolisticWeight > 0)
        {
            var logits = context.StudentShape("logits");
            if (logits.Length != 4)
            {
                throw new ArgumentException($"skd: the holistic term's discriminator scores logit maps [B, K, h, w]; the student's logits are {Tensor.FormatShape(logits)}");
            }

            _discriminator = RegisterModule("discriminator", new ScoreMapDiscriminator(logits[1], logits[2], logits[3], options.DConvDim));
        }

        StudentTaps = options.PairWeight > 0 ? [options.StudentTap] : [];
        TeacherTaps = options.PairWeight > 0 ? [options.TeacherTap] : [];
        OwnOptimizer = new MethodOptimizerSettings
        {
            Optimizer = options.DOptimizer,
            LearningRate = options.DLr,
            Momentum = options.DMomentum,
            Betas = (0.9, 0.99),
            WeightDecay = options.DWeightDecayFromRecipe ? null : options.DWeightDecay,
            FollowSchedule = true,
        };
    }

    /// <inheritdoc />
    public override string Name => "skd";

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => _options.CeWeight;

    /// <summary>The discriminator, or null when λ_d = 0.</summary>
    public ScoreMapDiscriminator? Discriminator => _discriminator;

    /// <summary>The options the method was built with.</summary>
    public Options Settings => _options;

    /// <inheritdoc />
    public override IReadOnlyList<string> RandomDraws =>
        _discriminator is not null && _options.AdvLoss == "wgan-gp" ? ["alpha [B, 1, 1, 1] (the gradient penalty's interpolation weight, U(0, 1) per sample)"] : [];

    /// <inheritdoc />
    public IReadOnlyList<Tensor> OwnParameters => _discriminator is null ? [] : [.. _discriminator.Parameters()];

    /// <inheritdoc />
    public MethodOptimizerSettings OwnOptimizer { get; }

    /// <summary>
    /// Σ over every pixel of −softmax(t)·log softmax(s) over the classes, divided by h·w (not by the batch): maps
    /// [B, K, h, w] permuted to NHWC and flattened to rows of K first.
    /// </summary>
    public static Tensor PixelLoss(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (!student.Shape.SequenceEqual(teacher.Shape) || student.Dim != 4)
        {
            throw new ArgumentException($"skd: the pixel-wise term needs logit maps [B, K, h, w] of one shape; the student's are {Tensor.FormatShape(student.Shape)} and the teacher's {Tensor.FormatShape(teacher.Shape)}");
        }

        var (c, h, w) = (student.Size(1), student.Size(2), student.Size(3));
        var s = student.Permute(0, 2, 3, 1).Reshape(-1, c);
        var t = teacher.Permute(0, 2, 3, 1).Reshape(-1, c);
        return (-(F.Softmax(t, 1) * F.LogSoftmax(s, 1))).Sum() / h / w;
    }

    /// <summary>
    /// The pair-wise term: both maps max-pooled (kernel = stride = (⌊H·scale⌋, ⌊W·scale⌋) of the teacher's map, ceil
    /// mode, no padding) into M nodes, each node normalised by its detached L2 norm + 1e-8, similarities A = F̂ᵀF̂;
    /// Σ (A_T − A_S)² / M² / B.
    /// </summary>
    public static Tensor PairLoss(Tensor student, Tensor teacher, double scale)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var patch = ((long)(teacher.Size(2) * scale), (long)(teacher.Size(3) * scale));
        var pooledStudent = F.MaxPool2d(student, patch, patch, (0, 0), ceilMode: true);
        var pooledTeacher = F.MaxPool2d(teacher, patch, patch, (0, 0), ceilMode: true);
        var nodes = pooledTeacher.Size(2) * pooledTeacher.Size(3);
        var difference = Similarity(pooledTeacher) - Similarity(pooledStudent);
        return (difference.Square() / (nodes * nodes) / teacher.Size(0)).Sum();
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var terms = new LossTerms();
        if (_options.PixelWeight > 0)
        {
            terms.Add("pixel", PixelLoss(inputs.StudentLogits, Teacher(inputs)) * _options.PixelWeight);
        }

        if (_options.PairWeight > 0)
        {
            terms.Add("pair", PairLoss(inputs.Student(StudentTaps[0]), inputs.Teacher(TeacherTaps[0]), _options.PoolScale) * _options.PairWeight);
        }

        if (_discriminator is not null)
        {
            terms.Add("holistic", AdversarialLoss.Generator(Score(inputs.StudentLogits)) * _options.HolisticWeight);
        }

        return terms;
    }

    /// <inheritdoc />
    public LossTerms ComputeOwnLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (_discriminator is null)
        {
            return new LossTerms();
        }

        var student = inputs.StudentLogits;
        var teacher = Teacher(inputs);
        var real = Score(teacher);
        var fake = Score(student);
        var adversarial = _options.AdvLoss == "hinge" ? AdversarialLoss.HingeDiscriminator(real, fake) : AdversarialLoss.WassersteinDiscriminator(real, fake);
        var terms = new LossTerms().Add("d_adv", adversarial * _options.HolisticWeight);
        if (_options.AdvLoss == "wgan-gp")
        {
            long[] shape = [student.Size(0), 1, 1, 1];
            var alpha = Draw("alpha", shape, () =>
            {
                using var noGrad = Autograd.NoGrad();
                return Tensor.Rand(shape, student.DType, student.Device);
            });
            var penalty = AdversarialLoss.GradientPenalty(Score, teacher, student, alpha, _options.GpEps);
            terms.Add("d_gp", penalty * _options.LambdaGp * _options.HolisticWeight);
        }

        return terms.Add("d_real", real.Mean().Detach()).Add("d_fake", fake.Mean().Detach());
    }

    // softmax-free cosine similarities of the nodes: F / (‖F‖ + 1e-8, detached), then F̂ᵀF̂ per sample [B, M, M].
    private static Tensor Similarity(Tensor pooled)
    {
        Tensor norm;
        using (Autograd.NoGrad())
        {
            norm = pooled.Square().Sum(1, keepDim: true).Sqrt() + NodeNormEps;
        }

        var nodes = (pooled / norm).Reshape(pooled.Size(0), pooled.Size(1), -1);
        return nodes.Transpose(1, 2).Bmm(nodes);
    }

    private Tensor Score(Tensor maps) => _discriminator!.Forward(maps);

    private Tensor Teacher(DistillationInputs inputs) => inputs.TeacherLogits ?? throw new InvalidOperationException("skd needs the teacher's logit maps");

    /// <summary>The options of <c>skd</c> (recipe keys; defaults: the official run_train_val.sh and train_options.py).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>λ_pi.</summary>
        [OptionInfo("pixel-wise weight lambda_pi (0: off)", Aliases = ["lambda_pi"])]
        public double PixelWeight { get; init; } = 10;

        /// <summary>λ_pa.</summary>
        [OptionInfo("pair-wise weight lambda_pa (run_train_val.sh 0.5, argparse 1.0; 0: off)", Aliases = ["lambda_pa"])]
        public double PairWeight { get; init; } = 0.5;

        /// <summary>The node pooling's patch as a share of the map's height and width.</summary>
        [OptionInfo("pair-wise node pooling: kernel = stride = (int(H*s), int(W*s)), ceil mode", Minimum = 1e-9)]
        public double PoolScale { get; init; } = 0.5;

        /// <summary>The student's tap of the pair-wise term.</summary>
        [OptionInfo("the student's map of the pair-wise term (the PSP/ASPP head's feature)")]
        public string StudentTap { get; init; } = "context";

        /// <summary>The teacher's tap of the pair-wise term.</summary>
        [OptionInfo("the teacher's map of the pair-wise term")]
        public string TeacherTap { get; init; } = "context";

        /// <summary>λ_d.</summary>
        [OptionInfo("holistic (adversarial) weight lambda_d: the student's term and the discriminator's loss (0: off, no discriminator)", Aliases = ["lambda_d"])]
        public double HolisticWeight { get; init; } = 0.1;

        /// <summary>λ_gp.</summary>
        [OptionInfo("gradient penalty weight lambda_gp (wgan-gp)")]
        public double LambdaGp { get; init; } = 10;

        /// <summary>"wgan-gp" or "hinge".</summary>
        [OptionInfo("the discriminator's loss", Choices = ["wgan-gp", "hinge"], Aliases = ["adv_loss_type"])]
        public string AdvLoss { get; init; } = "wgan-gp";

        /// <summary>ε under the penalty's square root.</summary>
        [OptionInfo("added under the gradient penalty's square root (0: the official form; 1e-12 guards a vanishing gradient)")]
        public double GpEps { get; init; }

        /// <summary>The discriminator's first conv width.</summary>
        [OptionInfo("the discriminator's first conv channels", Minimum = 8, Aliases = ["adv_conv_dim"])]
        public int DConvDim { get; init; } = 64;

        /// <summary>The discriminator's optimizer.</summary>
        [OptionInfo("the discriminator's optimizer: sgd (official) or adam (betas 0.9, 0.99, as TorchDistiller)", Choices = ["sgd", "adam"])]
        public string DOptimizer { get; init; } = "sgd";

        /// <summary>The discriminator's base rate.</summary>
        [OptionInfo("the discriminator's learning rate (follows the recipe's schedule)", Aliases = ["lr_d"])]
        public double DLr { get; init; } = 4e-4;

        /// <summary>The discriminator's SGD momentum.</summary>
        [OptionInfo("the discriminator's SGD momentum")]
        public double DMomentum { get; init; } = 0.9;

        /// <summary>Whether the discriminator takes the recipe's weight decay (the student's), as the official code does.</summary>
        [OptionInfo("the discriminator takes the recipe's weight_decay, the student's (official); false: d_weight_decay")]
        public bool DWeightDecayFromRecipe { get; init; } = true;

        /// <summary>The discriminator's weight decay when <see cref="DWeightDecayFromRecipe"/> is false.</summary>
        [OptionInfo("the discriminator's weight decay when d_weight_decay_from_recipe is false (run_train_val.sh gives both 5e-4)")]
        public double DWeightDecay { get; init; } = 5e-4;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the loss the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
