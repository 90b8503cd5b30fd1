using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// A comprehensive overhaul of feature distillation (Heo et al., ICCV 2019, the
/// mdistiller variant): per stage, the student's pre-ReLU map goes through a connector (1×1 conv without
/// bias, N(0, √(2/C_t)) init, then BN) and is compared with the teacher's pre-ReLU map (adaptive-average-pooled
/// to the student's size) by the partial L2 distance Σ (s − t')² [s &gt; t' ∨ t' &gt; 0], t' = max(t, m), with the
/// per-channel margin m from the teacher's BN before that ReLU. Stage i of n is divided by 2^(n−1−i), the sum
/// by the batch: L = w_ce CE + w Σ_i d_i / 2^(n−1−i) / B; w = 1e-3 (1e-4 on ImageNet). The teacher stays in
/// eval mode (mdistiller leaves it in train mode; docs/methods/ofd.md). Terms (the classification task adds "ce"): "ofd".
/// See docs/methods/ofd.md.
/// </summary>
public sealed class OverhaulFeatureDistillation : Distiller, IReadsTeacherBatchNorm
{
    private readonly string[] _stages;
    private readonly Sequential[] _connectors;
    private readonly Tensor[] _margins;

    /// <summary>
    /// Creates the method from its options over their stages (default: every stage; their ".preact" taps are read),
    /// with the pre-ReLU shapes and the teacher's BN-before-ReLU margins <paramref name="context"/> gives.
    /// </summary>
    public OverhaulFeatureDistillation(Options options, MethodContext context)
        : this(options, Plan(options, context))
    {
    }

    private OverhaulFeatureDistillation(Options options, (IReadOnlyList<string> Stages, long[][] Student, long[][] Teacher, double[][] Margins) plan)
        : this(options, plan.Stages, plan.Student, plan.Teacher, plan.Margins)
    {
    }

    /// <summary>
    /// Creates the method over <paramref name="stages"/> ("stage1", ...; their ".preact" taps are read) with
    /// student and teacher pre-ReLU shapes and each stage's teacher margins [C_t].
    /// </summary>
    private OverhaulFeatureDistillation(Options options, IReadOnlyList<string> stages, IReadOnlyList<long[]> studentShapes, IReadOnlyList<long[]> teacherShapes,
        IReadOnlyList<double[]> margins)
    {
        var (weight, ceWeight) = (options.Weight, options.CeWeight);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(studentShapes);
        ArgumentNullException.ThrowIfNull(teacherShapes);
        ArgumentNullException.ThrowIfNull(margins);
        ArgumentOutOfRangeException.ThrowIfZero(stages.Count);
        _stages = [.. stages];
        Weight = weight;
        CeWeight = ceWeight;
        _connectors = new Sequential[stages.Count];
        _margins = new Tensor[stages.Count];
        var connectors = RegisterModule("connectors", new ModuleList());
        for (var i = 0; i < stages.Count; i++)
        {
            var (cs, ct) = (studentShapes[i][1], teacherShapes[i][1]);
            if (margins[i].Length != ct)
            {
                throw new ArgumentException($"ofd: {stages[i]} has {margins[i].Length} teacher margins for {ct} teacher channels");
            }

            var conv = new Conv2d(cs, ct, 1, bias: false);
            Init.Normal(conv.Weight, 0, Math.Sqrt(2.0 / ct));
            _connectors[i] = new Sequential(conv, new BatchNorm2d(ct));
            connectors.Add(_connectors[i]);
            _margins[i] = RegisterBuffer($"margin{i}", Tensor.From(margins[i].Select(m => (float)m).ToArray(), 1, ct, 1, 1))!;
        }
    }

    /// <inheritdoc />
    public override string Name => "ofd";

    /// <summary>The distillation weight.</summary>
    public double Weight { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => _stages.Select(s => s + ".preact").ToArray();

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps => StudentTaps;

    /// <inheritdoc />
    public IReadOnlyList<string> TeacherBatchNormStages => _stages;

    // Stages from the options (or every stage of the student), shapes and margins from the context.
    private static (IReadOnlyList<string> Stages, long[][] Student, long[][] Teacher, double[][] Margins) Plan(Options options, MethodContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var stages = FeatureOps.TapsOrStages(options.Stages, context.StudentStages, "ofd");
        var margins = stages.Select(st => context.TeacherBatchNorm(FeatureOps.StageIndex(st))).Select(bn => Margins(bn.Weight, bn.Bias)).ToArray();
        return (stages, stages.Select(st => context.StudentShape(st + ".preact")).ToArray(), stages.Select(st => context.TeacherShape(st + ".preact")).ToArray(), margins);
    }

    /// <summary>
    /// The margin of a pre-ReLU BN channel (γ, β): m = β − |γ| φ(β/|γ|) / Φ(−β/|γ|) when Φ(−β/|γ|) &gt; 0.001, else −3|γ|.
    /// </summary>
    public static double[] Margins(IReadOnlyList<double> gamma, IReadOnlyList<double> beta)
    {
        ArgumentNullException.ThrowIfNull(gamma);
        ArgumentNullException.ThrowIfNull(beta);
        using var scope = DisposeScope.Enter();
        var s = Tensor.From(gamma.ToArray(), gamma.Count).To(DType.Float64).Abs();
        var b = Tensor.From(beta.ToArray(), beta.Count).To(DType.Float64);
        var x = b / s;
        var cdf = ((-x / Math.Sqrt(2)).Erf() + 1) * 0.5;
        var pdf = (x.Square() * -0.5).Exp() / Math.Sqrt(2 * Math.PI);
        var margin = Tensor.Where(cdf > 0.001, b - (s * pdf / cdf), s * -3);
        return margin.ToArray<double>();
    }

    /// <summary>Σ (s − t')² over the elements where s &gt; t' or t' &gt; 0, t' = max(t, margin).</summary>
    public static Tensor PartialL2(Tensor student, Tensor teacher, Tensor margin)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var target = teacher.Maximum(margin);
        var mask = ((student > target).LogicalOr(target > 0)).To(student.DType);
        return ((student - target).Square() * mask).Sum();
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Tensor? sum = null;
        var taps = StudentTaps;
        for (var i = 0; i < _stages.Length; i++)
        {
            var student = _connectors[i].Forward(inputs.Student(taps[i]));
            var teacher = inputs.Teacher(taps[i]);
            if (teacher.Size(2) != student.Size(2) || teacher.Size(3) != student.Size(3))
            {
                teacher = F.AdaptiveAvgPool2d(teacher, (student.Size(2), student.Size(3)));
            }

            var d = PartialL2(student, teacher, _margins[i]) / Math.Pow(2, _stages.Length - 1 - i);
            sum = sum is null ? d : sum + d;
        }

        return new LossTerms()
            .Add("ofd", sum! * (Weight / inputs.StudentLogits.Size(0)));
    }

    /// <summary>The options of <c>ofd</c> (recipe keys, defaults: the authors' CIFAR recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The stages; empty: every stage.</summary>
        [OptionInfo("stage taps to distil (default: every stage (their pre-ReLU maps))")]
        public IReadOnlyList<string> Stages { get; init; } = [];

        /// <summary>The distillation weight.</summary>
        [OptionInfo("distillation weight (ImageNet: 1e-4)", Aliases = ["feat_weight"])]
        public double Weight { get; init; } = 1e-3;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
