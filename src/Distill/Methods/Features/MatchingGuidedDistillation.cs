using Distill.Algorithms;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Matching Guided Distillation (Yue, Deng and Zhou, ECCV 2020). Per stage, the student's pre-ReLU map
/// goes through a student-side BatchNorm2d(C_s) and is compared by the partial L2 distance (OFD margins from the
/// teacher's pre-ReLU BN) with the teacher's pre-ReLU map reduced to C_s channels along a channel matching:
/// <list type="bullet">
/// <item>Matching step (before epoch 1, then every <see cref="UpdateFrequency"/> epochs): over
/// <see cref="CalibrationImages"/> training images in eval mode, the mean cost between L2-normalised channel maps,
/// cost[i, j] = mean_images (2 − 2⟨ŝ_i, t̂_j⟩) (teacher maps pooled to the student's size), stacked G = ⌊C_t / C_s⌋
/// times over the first G·C_s teacher channels and solved as a linear sum assignment (our Hungarian solver):
/// every student channel gets G distinct teacher channels. Sparse matching ("sm") solves the C_s × C_t problem:
/// one teacher channel each, the rest ignored.</item>
/// <item>Reducers: "amp" (default; per position the matched value of largest magnitude, sign kept; margin = mean
/// of the G margins), "sp" (plain max; max margin), "rd" (a uniformly random one of the G per position, a random
/// one of the G margins per channel; both draws overridable in `distill check` as random.choice&lt;i&gt; and
/// random.margin&lt;i&gt;), "sm".</item>
/// </list>
/// L = w_ce CE + Σ_i d_i / divisor_i / B / loss_factor, divisors 2^(n−1−i) over the listed stages (8, 4, 2, 1 for
/// four), loss_factor 1e4; with_kd adds T² KL at T = 1.5. The assignment is kept as buffers (assignment&lt;i&gt;,
/// [C_s, G] teacher channel indices) so checkpoints and resumed runs keep it; before any matching step it is
/// student channel i ← teacher channels i, C_s + i, .... Terms (the classification task adds "ce"): "mgd_match" (and "kd").
/// See docs/methods/matching.md.
/// </summary>
public sealed class MatchingGuidedDistillation : Distiller, IReadsTeacherBatchNorm, ICalibratedMethod
{
    private readonly string[] _stages;
    private readonly double[] _divisors;
    private readonly BatchNorm2d[] _norms;
    private readonly Tensor[] _margins;
    private readonly Tensor[] _assignments;
    private readonly int[] _groups;
    private readonly long[] _studentChannels;
    private Tensor?[]? _costs;
    private long _calibrated;
    private Torch.Distributed.IProcessGroup? _calibrationGroup;

    /// <summary>
    /// Creates the method from its options over their stages (default: every stage; their ".preact" taps are read),
    /// less the ignored ones, with the channel counts and the teacher's BN-before-ReLU margins <paramref name="context"/>
    /// gives; divisors default to 2^(n-1-i) over all n stages, set before any is ignored.
    /// </summary>
    /// <exception cref="ArgumentException">The divisors do not match the stages, no stage is left, or a teacher stage has fewer channels.</exception>
    public MatchingGuidedDistillation(Options options, MethodContext context)
        : this(options, Plan(options, context))
    {
    }

    private MatchingGuidedDistillation(Options options, (string[] Stages, long[] Student, long[] Teacher, double[][] Margins, double[] Divisors) plan)
        : this(options, plan.Stages, plan.Student, plan.Teacher, plan.Margins, plan.Divisors)
    {
    }

    /// <summary>
    /// Creates the method over <paramref name="stages"/> ("stage1", ...; their ".preact" taps are read) with the
    /// student's and teacher's pre-ReLU channel counts, each stage's teacher margins [C_t] and divisor.
    /// </summary>
    /// <exception cref="ArgumentException">A teacher stage has fewer channels than the student's, or an option is unknown.</exception>
    internal MatchingGuidedDistillation(Options options, IReadOnlyList<string> stages, IReadOnlyList<long> studentChannels, IReadOnlyList<long> teacherChannels,
        IReadOnlyList<double[]> margins, IReadOnlyList<double> divisors)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (reducer, updateFrequency) = (options.Reducer, options.UpdateFreq);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(studentChannels);
        ArgumentNullException.ThrowIfNull(teacherChannels);
        ArgumentNullException.ThrowIfNull(margins);
        ArgumentNullException.ThrowIfNull(divisors);
        ArgumentOutOfRangeException.ThrowIfZero(stages.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(updateFrequency, 1);
        if (reducer is not ("amp" or "sp" or "rd" or "sm"))
        {
            throw new ArgumentException($"matching: reducer '{reducer}' is not one of amp, sp, rd, sm", nameof(options));
        }

        _stages = [.. stages];
        _divisors = [.. divisors];
        Reducer = reducer;
        UpdateFrequency = updateFrequency;
        CalibrationImages = options.MatchImages;
        LossFactor = options.LossFactor;
        WithKd = options.WithKd;
        KdTemperature = options.KdTemperature;
        CeWeight = options.CeWeight;
        _norms = new BatchNorm2d[stages.Count];
        _margins = new Tensor[stages.Count];
        _assignments = new Tensor[stages.Count];
        _groups = new int[stages.Count];
        _studentChannels = [.. studentChannels];
        var norms = RegisterModule("norms", new ModuleList());
        for (var i = 0; i < stages.Count; i++)
        {
            var (cs, ct) = (studentChannels[i], teacherChannels[i]);
            if (ct < cs)
            {
                throw new ArgumentException($"matching: {stages[i]} has {ct} teacher channels for {cs} student channels; the teacher must have at least as many");
            }

            if (margins[i].Length != ct)
            {
                throw new ArgumentException($"matching: {stages[i]} has {margins[i].Length} teacher margins for {ct} teacher channels");
            }

            _groups[i] = reducer == "sm" ? 1 : (int)(ct / cs);
            _norms[i] = new BatchNorm2d(cs);
            norms.Add(_norms[i]);
            _margins[i] = RegisterBuffer($"margin{i}", Tensor.From(margins[i].Select(m => (float)m).ToArray(), ct))!;
            var initial = Enumerable.Range(0, (int)cs).SelectMany(c => Enumerable.Range(0, _groups[i]).Select(k => (long)(c + (k * cs)))).ToArray();
            _assignments[i] = RegisterBuffer($"assignment{i}", Tensor.From(initial, cs, _groups[i]))!;
        }
    }

    // Stages from the options (or every stage), divisors over all of them, then the ignored ones left out.
    private static (string[] Stages, long[] Student, long[] Teacher, double[][] Margins, double[] Divisors) Plan(Options options, MethodContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var all = FeatureOps.TapsOrStages(options.Stages, context.StudentStages, "matching");
        var divisors = options.Divisors.Count > 0 ? options.Divisors : all.Select((_, i) => Math.Pow(2, all.Count - 1 - i)).ToArray();
        if (divisors.Count != all.Count)
        {
            throw new ArgumentException($"matching: {divisors.Count} divisors for {all.Count} stages");
        }

        var kept = all.Select((stage, i) => (stage, i)).Where(x => !options.IgnoreStages.Contains(x.stage)).ToArray();
        if (kept.Length == 0)
        {
            throw new ArgumentException("matching: ignore_stages leaves no stage");
        }

        return (kept.Select(x => x.stage).ToArray(), kept.Select(x => context.StudentShape(x.stage + ".preact")[1]).ToArray(),
            kept.Select(x => context.TeacherShape(x.stage + ".preact")[1]).ToArray(),
            kept.Select(x => context.TeacherBatchNorm(FeatureOps.StageIndex(x.stage))).Select(bn => OverhaulFeatureDistillation.Margins(bn.Weight, bn.Bias)).ToArray(),
            kept.Select(x => divisors[x.i]).ToArray());
    }

    /// <inheritdoc />
    public override string Name => "matching";

    /// <summary>"amp", "sp", "rd" or "sm".</summary>
    public string Reducer { get; }

    /// <summary>Epochs between matching steps.</summary>
    public int UpdateFrequency { get; }

    /// <inheritdoc />
    public int CalibrationImages { get; }

    /// <summary>The fixed divisor of the summed distance (1e4 for 224 inputs).</summary>
    public double LossFactor { get; }

    /// <summary>Whether KD at <see cref="KdTemperature"/> is added.</summary>
    public bool WithKd { get; }

    /// <summary>The KD temperature (1.5).</summary>
    public double KdTemperature { get; }

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

    /// <inheritdoc />
    public override IReadOnlyList<string> RandomDraws => Reducer != "rd" ? [] :
        [.. Enumerable.Range(0, _stages.Length).SelectMany(i => new[]
        {
            $"choice{i} [B, {_studentChannels[i]}, H, W] Int64 in [0, {_groups[i]}) ({_stages[i]}: which matched teacher value each position takes)",
            $"margin{i} [{_studentChannels[i]}] Int64 in [0, {_groups[i]}) ({_stages[i]}: which matched margin each channel takes)",
        })];

    /// <summary>The teacher channels matched to each student channel of stage <paramref name="stage"/> ([C_s, G]).</summary>
    public long[,] Assignment(int stage)
    {
        var values = _assignments[stage].ToArray<long>();
        var (cs, g) = (_assignments[stage].Size(0), _assignments[stage].Size(1));
        var result = new long[cs, g];
        for (var i = 0; i < values.Length; i++)
        {
            result[i / g, i % g] = values[i];
        }

        return result;
    }

    /// <summary>
    /// The assignment of a mean cost matrix [C_s, C_t] (row-major): G copies of each student channel over the first
    /// G·C_s teacher channels, or for sparse matching one teacher channel per student channel. Result [C_s, G].
    /// </summary>
    public static long[,] Match(double[] cost, int studentChannels, int teacherChannels, bool sparse)
    {
        ArgumentNullException.ThrowIfNull(cost);
        if (sparse)
        {
            var single = LinearSumAssignment.Solve(cost, studentChannels, teacherChannels);
            var result = new long[studentChannels, 1];
            for (var i = 0; i < studentChannels; i++)
            {
                result[i, 0] = single[i];
            }

            return result;
        }

        var g = teacherChannels / studentChannels;
        var columns = g * studentChannels;
        var stacked = new double[columns * columns];
        for (var k = 0; k < g; k++)
        {
            for (var i = 0; i < studentChannels; i++)
            {
                Array.Copy(cost, i * teacherChannels, stacked, ((k * studentChannels) + i) * columns, columns);
            }
        }

        var rows = LinearSumAssignment.Solve(stacked, columns, columns);
        var groups = new long[studentChannels, g];
        for (var k = 0; k < g; k++)
        {
            for (var i = 0; i < studentChannels; i++)
            {
                groups[i, k] = rows[(k * studentChannels) + i];
            }
        }

        return groups;
    }

    /// <summary>
    /// Σ over the batch of the matching cost (2 − 2⟨ŝ_i, t̂_j⟩) between L2-normalised channel maps of a student map
    /// [B, C_s, H, W] and a teacher map [B, C_t, H', W'] (pooled to H × W): [C_s, C_t].
    /// </summary>
    public static Tensor BatchCost(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var (b, h, w) = (student.Size(0), student.Size(2), student.Size(3));
        if (teacher.Size(2) != h || teacher.Size(3) != w)
        {
            teacher = F.AdaptiveAvgPool2d(teacher, (h, w));
        }

        var s = F.Normalize(student.Reshape([b, student.Size(1), -1]), dim: 2);
        var t = F.Normalize(teacher.Reshape([b, teacher.Size(1), -1]), dim: 2);
        return (s.Bmm(t.Transpose(1, 2)).Sum(0) * -2) + (2.0 * b);
    }

    /// <summary>
    /// The teacher map [B, C_t, H, W] reduced along <paramref name="assignment"/> [C_s, G] with <paramref name="reducer"/>,
    /// and the per-channel margin [C_s] from the teacher margins [C_t]. <paramref name="choice"/> and
    /// <paramref name="marginChoice"/> are the "rd" draws (indices into G).
    /// </summary>
    public static (Tensor Teacher, Tensor Margin) Reduce(Tensor teacher, Tensor margins, Tensor assignment, string reducer, Tensor? choice = null, Tensor? marginChoice = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(margins);
        ArgumentNullException.ThrowIfNull(assignment);
        var (b, h, w) = (teacher.Size(0), teacher.Size(2), teacher.Size(3));
        var (cs, g) = (assignment.Size(0), assignment.Size(1));
        var gathered = teacher.IndexSelect(1, assignment.Reshape([-1])).Reshape([b, cs, g, h, w]);
        var groupMargins = margins.IndexSelect(0, assignment.Reshape([-1])).Reshape([cs, g]);
        switch (reducer)
        {
            case "sp":
                return (gathered.Amax([2]), groupMargins.Amax([1]));
            case "rd":
                var picked = gathered.Gather(2, choice!.Reshape([b, cs, 1, h, w])).Reshape([b, cs, h, w]);
                return (picked, groupMargins.Gather(1, marginChoice!.Reshape([cs, 1])).Reshape([cs]));
            default:
                var largest = gathered.Abs().ArgMax(2, keepDim: true);
                return (gathered.Gather(2, largest).Reshape([b, cs, h, w]), groupMargins.Mean(1));
        }
    }

    /// <inheritdoc />
    public bool NeedsCalibration(int epoch) => CalibrationImages > 0 && (epoch - 1) % UpdateFrequency == 0;

    /// <inheritdoc />
    public void BeginCalibration()
    {
        _costs = new Tensor?[_stages.Length];
        _calibrated = 0;
        _calibrationGroup = null;
    }

    /// <inheritdoc />
    public void Calibrate(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var costs = _costs ?? throw new InvalidOperationException("matching: Calibrate before BeginCalibration");
        var taps = StudentTaps;
        for (var i = 0; i < _stages.Length; i++)
        {
            var cost = BatchCost(inputs.Student(taps[i]), inputs.Teacher(taps[i])).To(DType.Float64);
            if (costs[i] is { } sum)
            {
                sum.AddInPlace(cost);
            }
            else
            {
                costs[i] = cost.DetachFromScope();
            }
        }

        _calibrated += inputs.StudentLogits.Size(0);
        _calibrationGroup = inputs.ProcessGroup;
    }

    /// <inheritdoc />
    public void EndCalibration()
    {
        var costs = _costs;
        var group = _calibrationGroup;
        _costs = null;
        _calibrationGroup = null;
        if (costs is null)
        {
            return;
        }

        if (group is { WorldSize: > 1 })
        {
            // Data-parallel: every rank read as many batches (the trainer stops them together), so every rank has a sum per
            // stage; the sums and the image counts are added up over the ranks, the whole job's mean cost solved on every
            // rank, and rank 0's assignment broadcast (as the authors' code does), so ties cannot make the ranks differ.
            using var scope = DisposeScope.Enter();
            var count = Tensor.From(new[] { _calibrated }, 1).To(costs[0]!.Device);
            group.AllReduce([.. costs.Select(c => c!), count]);
            _calibrated = count.To(Device.Cpu).ToArray<long>()[0];
        }

        for (var i = 0; i < costs.Length; i++)
        {
            if (costs[i] is not { } sum)
            {
                continue;
            }

            using (sum)
            {
                using var scope = DisposeScope.Enter();
                var (cs, ct) = (sum.Size(0), sum.Size(1));
                var groups = Match((sum / _calibrated).To(Device.Cpu).ToArray<double>(), (int)cs, (int)ct, Reducer == "sm");
                var flat = new long[groups.Length];
                Buffer.BlockCopy(groups, 0, flat, 0, flat.Length * sizeof(long));
                using (Autograd.NoGrad())
                {
                    _assignments[i].CopyFrom(Tensor.From(flat, cs, groups.GetLength(1)).To(_assignments[i].Device));
                }
            }
        }

        if (group is { WorldSize: > 1 })
        {
            using var noGrad = Autograd.NoGrad();
            group.Broadcast(_assignments);
        }
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var taps = StudentTaps;
        Tensor? sum = null;
        for (var i = 0; i < _stages.Length; i++)
        {
            var student = _norms[i].Forward(inputs.Student(taps[i]));
            var teacher = inputs.Teacher(taps[i]);
            var (b, cs, h, w) = (student.Size(0), student.Size(1), student.Size(2), student.Size(3));
            if (teacher.Size(2) != h || teacher.Size(3) != w)
            {
                teacher = F.AdaptiveAvgPool2d(teacher, (h, w));
            }

            Tensor? choice = null;
            Tensor? marginChoice = null;
            if (Reducer == "rd")
            {
                var g = _groups[i];
                var device = student.Device;
                choice = Draw($"choice{i}", [b, cs, h, w], () => Tensor.RandInt(0, g, [b, cs, h, w], device: device));
                marginChoice = Draw($"margin{i}", [cs], () => Tensor.RandInt(0, g, [cs], device: device));
            }

            var (target, margin) = Reduce(teacher, _margins[i], _assignments[i], Reducer, choice, marginChoice);
            var d = OverhaulFeatureDistillation.PartialL2(student, target, margin.Reshape([1, cs, 1, 1])) / _divisors[i];
            sum = sum is null ? d : sum + d;
        }

        var terms = new LossTerms()
            .Add("mgd_match", sum! / (inputs.StudentLogits.Size(0) * LossFactor));
        if (WithKd)
        {
            var teacherLogits = inputs.TeacherLogits ?? throw new InvalidOperationException("matching with_kd needs teacher logits");
            terms.Add("kd", KnowledgeDistillation.KdLoss(inputs.StudentLogits, teacherLogits, KdTemperature));
        }

        return terms;
    }

    /// <summary>The options of <c>matching</c> (recipe keys, defaults: the authors' CIFAR-100 recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The stages; empty: every stage.</summary>
        [OptionInfo("stage taps to distil (default: every stage (their pre-ReLU maps))")]
        public IReadOnlyList<string> Stages { get; init; } = [];

        /// <summary>Stages left out after the divisors are set.</summary>
        [OptionInfo("stages left out after the divisors are set (e.g. [stage1] for ShuffleNetV2)")]
        public IReadOnlyList<string> IgnoreStages { get; init; } = [];

        /// <summary>The reducer: amp, sp, rd or sm.</summary>
        [OptionInfo("absolute max pooling, simple (max) pooling, random drop, or sparse matching", Choices = ["amp", "sp", "rd", "sm"], Aliases = ["mgd_reducer"])]
        public string Reducer { get; init; } = "amp";

        /// <summary>Epochs between matching steps.</summary>
        [OptionInfo("epochs between matching steps (1 on ImageNet)", Minimum = 1, Aliases = ["mgd_update_freq"])]
        public int UpdateFreq { get; init; } = 2;

        /// <summary>Training images each matching step reads (0: never match).</summary>
        [OptionInfo("training images each matching step reads (0: never match)")]
        public int MatchImages { get; init; } = 20000;

        /// <summary>The divisor of the summed distance.</summary>
        [OptionInfo("divisor of the summed distance", Minimum = 1e-12)]
        public double LossFactor { get; init; } = 1e4;

        /// <summary>Per-stage divisors; empty: 2^(n-1-i).</summary>
        [OptionInfo("per-stage divisors (default 2^(n-1-i): 8, 4, 2, 1 for four stages)")]
        public IReadOnlyList<double> Divisors { get; init; } = [];

        /// <summary>Whether KD at <see cref="KdTemperature"/> is added.</summary>
        [OptionInfo("add KD at kd_temperature", Aliases = ["mgd_with_kd"])]
        public bool WithKd { get; init; }

        /// <summary>The KD temperature.</summary>
        [OptionInfo("KD temperature", Minimum = 1e-9)]
        public double KdTemperature { get; init; } = 1.5;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
