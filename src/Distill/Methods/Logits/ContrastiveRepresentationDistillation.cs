using Distill.NN;
using Distill.Torch;
using Distill.Torch.Distributed;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Contrastive representation distillation (Tian et al., ICLR 2020, as RepDistiller). The pooled
/// features of both networks are embedded (Linear to 128, L2-normalised); each sample's student embedding is
/// scored against the teacher memory at its own index (the positive) and at K = 16384 indices of other classes
/// (negatives), and symmetrically for the teacher embedding against the student memory:
/// P = exp(⟨memory, e⟩ / τ) / Z (τ = 0.07, Z = mean(exp(·/τ))·N set from the first batch and kept). The NCE loss
/// with P_n = 1/N, m = K is L = −(1/B) Σ_b [log(P_b0 / (P_b0 + m P_n + 1e-7)) + Σ_{j≥1} log(m P_n / (P_bj + m P_n + 1e-7))],
/// L_crd = L(student side) + L(teacher side). After the step, each memory row of the batch becomes
/// normalise(0.5 row + 0.5 e) (momentum 0.5). Total w_ce CE + w_crd L_crd (+ w_kd KD at T): 1, 0.8, 0.
/// <para>
/// Memory: two banks of N × 128 (the data set's size; buffers, so checkpoints keep them). With a queue size Q &gt; 0
/// the banks are replaced by two first-in-first-out queues of the last Q embeddings and their labels, so memory no
/// longer grows with the data set: the positive is the other network's current (detached) embedding, the negatives
/// the queue's entries of other classes (m = Q; empty and same-class slots are left out of the sum).
/// </para>
/// The negatives are drawn as the official sampler draws them: K distinct samples of other classes per row (without
/// replacement; with replacement only when K exceeds the row's pool of other-class samples), on the device from the
/// run's generator; `distill check` can fix them as random.contrast [B, K] (data-set indices). Terms (the classification task adds "ce"): "crd"
/// (and "kd").
/// <para>
/// Data-parallel (<see cref="DistillationInputs.ProcessGroup"/>): Z is set from the mean over the whole job's first batch,
/// and the memory is updated with every rank's (indices, embeddings), all-gathered and put in the one-process order, so the
/// banks or queues stay identical on every rank and equal to one process's. Each rank draws its own rows' negatives from
/// its own stream (rows are drawn independently in one process too).
/// </para>
/// </summary>
public sealed class ContrastiveRepresentationDistillation : Distiller, IUsesSampleIndices
{
    private const double Epsilon = 1e-7;
    private readonly Linear _studentEmbed;
    private readonly Linear _teacherEmbed;
    private readonly Tensor _studentMemory;
    private readonly Tensor _teacherMemory;
    private readonly Tensor? _queueLabels;
    private readonly Tensor? _queueNext;
    private readonly Tensor _studentNormalizer;
    private readonly Tensor _teacherNormalizer;
    private readonly Tensor _byClass;
    private readonly Tensor _classStart;
    private readonly Tensor _classCount;
    private readonly Tensor _classOthers;
    private readonly Tensor _classNeedsReplacement;
    private readonly int _replacementClasses;
    private readonly long _datasetSize;

    /// <summary>
    /// Creates the method from its options for the pooled features of both networks and the training set's labels by
    /// sample index, as <paramref name="context"/> gives them.
    /// </summary>
    /// <exception cref="ArgumentException">The context has no data-set labels, or the data set is empty or of one class.</exception>
    public ContrastiveRepresentationDistillation(Options options, MethodContext context)
        : this(options, (context ?? throw new ArgumentNullException(nameof(context))).StudentShape("pooled")[1], context.TeacherShape("pooled")[1],
            context.DatasetLabels ?? throw new ArgumentException("crd needs the training set's labels (a check input gives them as dataset.labels [N] Int64)"))
    {
    }

    /// <summary>Creates the method for pooled features of <paramref name="studentDim"/> and <paramref name="teacherDim"/> over a data set with these labels.</summary>
    /// <exception cref="ArgumentException">The data set is empty.</exception>
    internal ContrastiveRepresentationDistillation(Options options, long studentDim, long teacherDim, IReadOnlyList<int> datasetLabels)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(datasetLabels);
        var (featureDim, negatives, queueSize) = (options.FeatDim, options.NceK, options.QueueSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(featureDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(negatives, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueSize);
        if (datasetLabels.Count == 0)
        {
            throw new ArgumentException("crd: the data set has no samples (the memory needs the training set's labels)", nameof(datasetLabels));
        }

        FeatureDim = featureDim;
        Negatives = queueSize > 0 ? queueSize : negatives;
        Temperature = options.NceT;
        Momentum = options.Momentum;
        QueueSize = queueSize;
        CeWeight = options.CeWeight;
        CrdWeight = options.CrdWeight;
        KdWeight = options.KdWeight;
        KdTemperature = options.Temperature;
        _datasetSize = datasetLabels.Count;
        _studentEmbed = RegisterModule("student_embed", ContrastiveEmbed.Create(studentDim, featureDim));
        _teacherEmbed = RegisterModule("teacher_embed", ContrastiveEmbed.Create(teacherDim, featureDim));
        var rows = queueSize > 0 ? queueSize : _datasetSize;
        var bound = 1 / Math.Sqrt(featureDim / 3.0);
        using (DisposeScope.Enter())
        {
            // U(-a, a): the intermediates go with the scope; the registered buffers leave it.
            _studentMemory = RegisterBuffer("student_memory", (Tensor.Rand([rows, featureDim]) * (2 * bound)) - bound)!;
            _teacherMemory = RegisterBuffer("teacher_memory", (Tensor.Rand([rows, featureDim]) * (2 * bound)) - bound)!;
        }

        if (queueSize > 0)
        {
            _queueLabels = RegisterBuffer("queue_labels", Tensor.Full([queueSize], -1.0, DType.Int64))!;
            _queueNext = RegisterBuffer("queue_next", Tensor.Zeros([], DType.Int64))!;
        }

        _studentNormalizer = RegisterBuffer("student_normalizer", Tensor.Full([], -1.0))!;
        _teacherNormalizer = RegisterBuffer("teacher_normalizer", Tensor.Full([], -1.0))!;

        // Indices sorted by class, each class's first position and size: "a uniform index of another class" is
        // r ~ U[0, N − n_y), shifted past class y's block, then looked up.
        var classes = datasetLabels.Max() + 1;
        var order = Enumerable.Range(0, datasetLabels.Count).OrderBy(i => datasetLabels[i]).ThenBy(i => i).Select(i => (long)i).ToArray();
        var counts = new long[classes];
        foreach (var label in datasetLabels)
        {
            counts[label]++;
        }

        var starts = new long[classes];
        for (var c = 1; c < classes; c++)
        {
            starts[c] = starts[c - 1] + counts[c - 1];
        }

        _byClass = RegisterBuffer("by_class", Tensor.From(order, order.Length), persistent: false)!;
        _classStart = RegisterBuffer("class_start", Tensor.From(starts, classes), persistent: false)!;
        _classCount = RegisterBuffer("class_count", Tensor.From(counts, classes), persistent: false)!;
        _classOthers = RegisterBuffer("class_others", Tensor.From(counts.Select(c => _datasetSize - c).ToArray(), classes), persistent: false)!;
        if (counts.Any(c => c == _datasetSize))
        {
            throw new ArgumentException("crd: every sample has the same class, so there are no negatives of another class", nameof(datasetLabels));
        }

        // Classes whose pool of other-class samples is smaller than K draw with replacement (as the official sampler).
        var needsReplacement = counts.Select(c => _datasetSize - c < Negatives ? 1L : 0L).ToArray();
        _replacementClasses = (int)needsReplacement.Sum();
        using (DisposeScope.Enter())
        {
            _classNeedsReplacement = RegisterBuffer("class_needs_replacement", Tensor.From(needsReplacement, classes).To(DType.Bool), persistent: false)!;
        }
    }

    /// <inheritdoc />
    public override string Name => "crd";

    /// <summary>The embedding size (128).</summary>
    public int FeatureDim { get; }

    /// <summary>K, the negatives per sample (the queue size in queue mode).</summary>
    public int Negatives { get; }

    /// <summary>τ (0.07).</summary>
    public double Temperature { get; }

    /// <summary>The memory momentum (0.5).</summary>
    public double Momentum { get; }

    /// <summary>Q, the queue size; 0 for data-set memory banks.</summary>
    public int QueueSize { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The CRD weight.</summary>
    public double CrdWeight { get; }

    /// <summary>The KD weight (0: no KD term).</summary>
    public double KdWeight { get; }

    /// <summary>The KD temperature.</summary>
    public double KdTemperature { get; }

    /// <inheritdoc />
    public long DatasetSize => _datasetSize;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => ["pooled"];

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps => ["pooled"];

    /// <inheritdoc />
    public override IReadOnlyList<string> RandomDraws => QueueSize > 0 ? [] : [$"contrast [B, {Negatives}] Int64 (data-set indices of each sample's negatives: other classes, distinct within a row unless K exceeds the pool)"];

    /// <summary>The NCE loss of scores P [B, 1 + K] (column 0 the positive); <paramref name="valid"/> [B, K] masks negatives out.</summary>
    public static Tensor NceLoss(Tensor scores, long datasetSize, long negatives, Tensor? valid = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var noise = negatives / (double)datasetSize;
        var positive = scores.Narrow(1, 0, 1);
        var positiveTerm = (positive / (positive + (noise + Epsilon))).Log();
        var negativeTerms = (noise / (scores.Narrow(1, 1, scores.Size(1) - 1) + (noise + Epsilon))).Log();
        if (valid is not null)
        {
            negativeTerms = negativeTerms * valid;
        }

        return -(positiveTerm.Sum() + negativeTerms.Sum()) / scores.Size(0);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var studentEmbedding = ContrastiveEmbed.Forward(_studentEmbed, inputs.Student("pooled"));
        var teacherEmbedding = ContrastiveEmbed.Forward(_teacherEmbed, inputs.Teacher("pooled"));
        var group = inputs.ProcessGroup is { WorldSize: > 1 } g ? g : null;
        var crd = QueueSize > 0
            ? QueueLoss(studentEmbedding, teacherEmbedding, inputs.Labels, group)
            : BankLoss(studentEmbedding, teacherEmbedding, inputs.Indices, inputs.Labels, group);
        var terms = new LossTerms()
            .Add("crd", crd * CrdWeight);
        if (KdWeight > 0)
        {
            var teacherLogits = inputs.TeacherLogits ?? throw new InvalidOperationException("crd with KD needs teacher logits");
            terms.Add("kd", KnowledgeDistillation.KdLoss(inputs.StudentLogits, teacherLogits, KdTemperature) * KdWeight);
        }

        return terms;
    }

    private Tensor BankLoss(Tensor studentEmbedding, Tensor teacherEmbedding, Tensor indices, Tensor labels, IProcessGroup? group)
    {
        var batch = indices.Size(0);
        var contrast = Draw("contrast", [batch, Negatives], () => SampleNegatives(labels));
        var rows = Tensor.Cat([indices.Reshape([batch, 1]), contrast], 1).Reshape([-1]);
        Tensor teacherRows, studentRows;
        using (Autograd.NoGrad())
        {
            teacherRows = _teacherMemory.IndexSelect(0, rows).Reshape([batch, Negatives + 1, FeatureDim]);
            studentRows = _studentMemory.IndexSelect(0, rows).Reshape([batch, Negatives + 1, FeatureDim]);
        }

        var studentScores = Scores(teacherRows, studentEmbedding, _studentNormalizer, group);
        var teacherScores = Scores(studentRows, teacherEmbedding, _teacherNormalizer, group);
        var loss = NceLoss(studentScores, _datasetSize, Negatives) + NceLoss(teacherScores, _datasetSize, Negatives);
        using (Autograd.NoGrad())
        {
            if (group is not null)
            {
                // Every rank updates the rows of the whole job's batch, so the banks stay identical.
                (indices, studentEmbedding, teacherEmbedding) = (JobRows(group, indices), JobRows(group, studentEmbedding.Detach()), JobRows(group, teacherEmbedding.Detach()));
            }

            UpdateBank(_studentMemory, indices, studentEmbedding);
            UpdateBank(_teacherMemory, indices, teacherEmbedding);
        }

        return loss;
    }

    private Tensor QueueLoss(Tensor studentEmbedding, Tensor teacherEmbedding, Tensor labels, IProcessGroup? group)
    {
        var batch = labels.Size(0);
        Tensor valid;
        using (Autograd.NoGrad())
        {
            var queued = _queueLabels!.Reshape([1, -1]);
            valid = (queued >= 0).LogicalAnd(queued.Ne(labels.Reshape([batch, 1]))).To(studentEmbedding.DType);
        }

        // Column 0: the other network's current embedding (detached); then the queue.
        var studentScores = ScoresAgainst(teacherEmbedding.Detach(), _teacherMemory, studentEmbedding, _studentNormalizer, group);
        var teacherScores = ScoresAgainst(studentEmbedding.Detach(), _studentMemory, teacherEmbedding, _teacherNormalizer, group);
        var loss = NceLoss(studentScores, _datasetSize, Negatives, valid) + NceLoss(teacherScores, _datasetSize, Negatives, valid);
        using (Autograd.NoGrad())
        {
            if (group is not null)
            {
                // The whole job's batch is enqueued in the one-process order, so the queues stay identical.
                (labels, studentEmbedding, teacherEmbedding) = (JobRows(group, labels), JobRows(group, studentEmbedding.Detach()), JobRows(group, teacherEmbedding.Detach()));
                batch = labels.Size(0);
            }

            var slots = (Tensor.Arange(batch, DType.Int64, labels.Device) + _queueNext!) % QueueSize;
            _studentMemory.IndexCopyInPlace(0, slots, studentEmbedding.Detach());
            _teacherMemory.IndexCopyInPlace(0, slots, teacherEmbedding.Detach());
            _queueLabels!.IndexCopyInPlace(0, slots, labels);
            _queueNext!.CopyFrom((_queueNext + batch) % QueueSize);
        }

        return loss;
    }

    private Tensor ScoresAgainst(Tensor positive, Tensor queue, Tensor anchor, Tensor normalizer, IProcessGroup? group)
    {
        Tensor rows;
        using (Autograd.NoGrad())
        {
            var batch = anchor.Size(0);
            rows = Tensor.Cat([positive.Reshape([batch, 1, FeatureDim]), queue.Reshape([1, QueueSize, FeatureDim]).Expand(batch, QueueSize, FeatureDim)], 1);
        }

        return Scores(rows, anchor, normalizer, group);
    }

    // exp(⟨row, anchor⟩ / τ) / Z for rows [B, 1 + K, D] and anchors [B, D]; Z set from the first batch, then kept.
    // Data-parallel, Z is the mean over the whole job's first batch (one host look per step to know whether Z is set).
    private Tensor Scores(Tensor rows, Tensor anchor, Tensor normalizer, IProcessGroup? group)
    {
        var scores = (rows.Bmm(anchor.Reshape([anchor.Size(0), FeatureDim, 1])).Reshape([anchor.Size(0), -1]) / Temperature).Exp();
        using (Autograd.NoGrad())
        {
            if (group is null)
            {
                var first = scores.Detach().Mean() * (double)_datasetSize;
                normalizer.CopyFrom(Tensor.Where(normalizer < 0, first.To(normalizer.DType), normalizer));
            }
            else if (normalizer.Item<float>() < 0)
            {
                var sums = Tensor.Stack([scores.Detach().To(DType.Float64).Sum(), Tensor.Full([], scores.NumberOfElements, DType.Float64, scores.Device)]);
                group.AllReduce([sums]);
                var job = sums.To(Device.Cpu).ToArray<double>();
                normalizer.FillInPlace(job[0] / job[1] * _datasetSize);
            }
        }

        return scores / normalizer;
    }

    /// <summary>Every rank's rows of a batch tensor [b, ...] (the same b on every rank), in the one-process order: rank r's row i is row i·W + r.</summary>
    private static Tensor JobRows(IProcessGroup group, Tensor local)
    {
        var gathered = group.AllGather(local.Contiguous());
        return Tensor.Stack(gathered, 1).Reshape([local.Size(0) * group.WorldSize, .. local.Shape[1..]]);
    }

    private void UpdateBank(Tensor memory, Tensor indices, Tensor embedding)
    {
        var rows = (memory.IndexSelect(0, indices) * Momentum) + (embedding.Detach() * (1 - Momentum));
        memory.IndexCopyInPlace(0, indices, F.Normalize(rows, dim: 1));
    }

    /// <summary>
    /// K data-set indices per label [B] ([B, K], on the labels' device), as RepDistiller's sampler: for each row, K
    /// distinct samples drawn uniformly without replacement from the samples of other classes; only when K exceeds
    /// that pool are they drawn with replacement (numpy's choice(pool, K, replace=K &gt; |pool|)).
    /// </summary>
    /// <remarks>
    /// Without replacement, on the device: every data-set position (sorted by class) gets a uniform key, the row's own
    /// class gets −1, and the K largest keys are the sample (the first K of a uniform random permutation of the pool).
    /// Rows are keyed in chunks of at most 2^24 keys, so memory stays bounded on large data sets.
    /// </remarks>
    public Tensor SampleNegatives(Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var noGrad = Autograd.NoGrad();
        var batch = labels.Size(0);
        if (_replacementClasses == _classStart.Size(0))
        {
            return SampleWithReplacement(labels);
        }

        var start = _classStart.IndexSelect(0, labels).Reshape([batch, 1]);
        var end = start + _classCount.IndexSelect(0, labels).Reshape([batch, 1]);
        var position = Tensor.Arange(_datasetSize, DType.Int64, labels.Device).Reshape([1, _datasetSize]);
        var excluded = Tensor.Full([], -1.0, DType.Float64, labels.Device);
        var rowsPerChunk = Math.Max(1, (1L << 24) / _datasetSize);
        var chunks = new List<Tensor>();
        for (long first = 0; first < batch; first += rowsPerChunk)
        {
            var rows = Math.Min(rowsPerChunk, batch - first);
            var own = (position >= start.Narrow(0, first, rows)).LogicalAnd(position < end.Narrow(0, first, rows));
            var keys = Tensor.Rand([rows, _datasetSize], DType.Float64, labels.Device);
            chunks.Add(Tensor.Where(own, excluded, keys).TopK(Negatives, dim: 1).Indices);
        }

        var positions = chunks.Count == 1 ? chunks[0] : Tensor.Cat([.. chunks], 0);
        var drawn = _byClass.IndexSelect(0, positions.Reshape([-1])).Reshape([batch, Negatives]);
        if (_replacementClasses == 0)
        {
            return drawn;
        }

        // Some classes' pools are smaller than K: their rows are drawn with replacement instead.
        var replace = _classNeedsReplacement.IndexSelect(0, labels).Reshape([batch, 1]);
        return Tensor.Where(replace, SampleWithReplacement(labels), drawn);
    }

    // K uniform draws with replacement from the other classes: r ~ U[0, N − n_y), shifted past class y's block.
    private Tensor SampleWithReplacement(Tensor labels)
    {
        var batch = labels.Size(0);
        var start = _classStart.IndexSelect(0, labels).Reshape([batch, 1]);
        var count = _classCount.IndexSelect(0, labels).Reshape([batch, 1]);
        var others = _classOthers.IndexSelect(0, labels).Reshape([batch, 1]);
        var u = Tensor.Rand([batch, Negatives], DType.Float64, labels.Device);
        var r = (u * others.To(DType.Float64)).Floor().To(DType.Int64);
        var shifted = r + ((r >= start).To(DType.Int64) * count);
        return _byClass.IndexSelect(0, shifted.Reshape([-1])).Reshape([batch, Negatives]);
    }

    /// <summary>The options of <c>crd</c> (recipe keys, defaults: the authors' CIFAR-100 recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The embedding size.</summary>
        [OptionInfo("embedding size", Minimum = 1, Aliases = ["crd_feat_dim"])]
        public int FeatDim { get; init; } = 128;

        /// <summary>K, the negatives per sample.</summary>
        [OptionInfo("negatives per sample, distinct and of other classes (with replacement only when K exceeds a class's pool, as the official sampler)", Minimum = 1, Aliases = ["crd_k"])]
        public int NceK { get; init; } = 16384;

        /// <summary>τ, the NCE temperature.</summary>
        [OptionInfo("temperature tau", Minimum = 1e-9, Aliases = ["crd_temperature"])]
        public double NceT { get; init; } = 0.07;

        /// <summary>The memory momentum.</summary>
        [OptionInfo("memory momentum", Aliases = ["nce_m", "crd_momentum"])]
        public double Momentum { get; init; } = 0.5;

        /// <summary>0: memory banks over the data set; Q &gt; 0: FIFO queues of Q embeddings.</summary>
        [OptionInfo("0: memory banks over the data set; Q > 0: FIFO queues of Q embeddings (memory independent of the data set)")]
        public int QueueSize { get; init; }

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the cross-entropy the trainer adds", Aliases = ["gamma"])]
        public double CeWeight { get; init; } = 1;

        /// <summary>The CRD weight.</summary>
        [OptionInfo("CRD weight", Aliases = ["beta"])]
        public double CrdWeight { get; init; } = 0.8;

        /// <summary>The KD weight (CRD+KD: 1).</summary>
        [OptionInfo("KD weight (CRD+KD: 1)", Aliases = ["alpha"])]
        public double KdWeight { get; init; }

        /// <summary>The KD temperature.</summary>
        [OptionInfo("KD temperature", Minimum = 1e-9, Aliases = ["kd_T"])]
        public double Temperature { get; init; } = 4;
    }
}
