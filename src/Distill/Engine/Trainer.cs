using System.Diagnostics;
using Distill.Engine.SoftLabels;
using Distill.Methods;
using Distill.Models;
using Distill.Tasks;
using Distill.NN.Data;
using Distill.NN.Optim;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// Trains a student alone or with a distiller: the teacher is frozen, in eval mode and under no-grad; the
/// student's forward records the taps the distiller asked for; the task's loss terms (classification: "ce",
/// weighted by the method's task-loss weight) come first, the method's distillation terms after them; the sum is
/// back-propagated; the gradients are clipped when the recipe asks, and the optimizer (SGD, Adam or AdamW, see
/// <see cref="OptimizerFactory"/>) steps over the student's and the distiller's parameters. A method with an own
/// optimizer (<see cref="IHasOwnOptimizer"/>, e.g. a discriminator) then steps its own parameters on its own loss in
/// the same step, in the order that interface documents. The schedule steps after every epoch, or after every
/// optimizer step when it runs per iteration. Every step
/// runs in its own dispose scope, and loss sums stay on the device until the epoch ends.
/// A non-finite loss term or weight stops training with a <see cref="TrainingDivergedException"/> before the
/// epoch is reported, so <c>onEpoch</c> (which checkpoints) never sees a diverged model.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly TappedModel<Tensor> _student;
    private readonly TappedModel<Tensor>? _teacher;
    private readonly IReadOnlyList<string> _taskTaps;
    private readonly Distiller? _distiller;
    private readonly ITrainingTask _task;
    private readonly TrainerOptions _options;
    private readonly Optimizer _optimizer;
    private readonly Tensor[] _parameters;
    private readonly LearningRateScheduler _scheduler;
    private readonly IHasOwnOptimizer? _own;
    private readonly Optimizer? _methodOptimizer;
    private readonly LearningRateScheduler? _methodScheduler;
    private readonly HashSet<string> _ownTermNames = new(StringComparer.Ordinal);
    private readonly Func<Tensor, Tensor>? _studentHead;
    private readonly Func<Tensor, Tensor>? _teacherHead;
    private readonly DataParallel? _parallel;
    private readonly SoftLabelStore? _softLabels;
    private readonly DType _teacherDType;

    /// <summary>Creates the trainer and its optimizer and schedule.</summary>
    /// <param name="student">The model trained.</param>
    /// <param name="teacher">The frozen teacher (null: none, or the method needs none).</param>
    /// <param name="distiller">The method (null: the task's loss alone).</param>
    /// <param name="options">The optimisation recipe.</param>
    /// <param name="task">What the student learns: its targets, loss, metrics and "best" (null: classification).</param>
    /// <param name="softLabels">
    /// A soft-label store serving the teacher's logits (null: the teacher runs online): the training loader must replay its
    /// draws (<see cref="DataLoader.RecordedDraws"/>), and the teacher is then never run.
    /// </param>
    /// <exception cref="ArgumentException">
    /// The distiller needs a teacher and none was given, declares own parameters that are not its registered parameters, reads
    /// classifier heads the models do not have, or reads more of the teacher than a soft-label store holds.
    /// </exception>
    public Trainer(TappedModel<Tensor> student, TappedModel<Tensor>? teacher, Distiller? distiller, TrainerOptions options, ITrainingTask? task = null, SoftLabelStore? softLabels = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(options);
        if (softLabels is not null && SoftLabelStore.Refusal(distiller) is { } refusal)
        {
            throw new ArgumentException(refusal);
        }

        if (distiller is { NeedsTeacher: true } && teacher is null && softLabels is null)
        {
            throw new ArgumentException($"method '{distiller.Name}' needs a teacher");
        }

        _student = student;
        _softLabels = softLabels;
        _teacher = distiller is { NeedsTeacher: false } || softLabels is not null ? null : teacher;
        _distiller = distiller;
        _task = (task ?? TrainingTasks.Default).ForModel(student);
        _taskTaps = _task.StudentTaps(student);
        _options = options;
        var groups = OptimizerFactory.Groups(student, distiller, options);
        _parameters = groups.SelectMany(g => g.Parameters).ToArray();
        _optimizer = OptimizerFactory.Create(groups, options);
        _scheduler = OptimizerFactory.CreateSchedule(_optimizer, options);
        // A method whose own part is switched off (SKD without its holistic term) has no own parameters and no own step.
        if (distiller is IHasOwnOptimizer { OwnParameters.Count: > 0 } own)
        {
            _own = own;
            _methodOptimizer = OptimizerFactory.CreateOwn(distiller, own, options.WeightDecay);
            _methodScheduler = own.OwnOptimizer.FollowSchedule ? OptimizerFactory.CreateSchedule(_methodOptimizer, options) : new LambdaLR(_methodOptimizer, _ => 1.0);
        }

        if (_teacher is not null)
        {
            _teacher.Eval();
            _teacher.Freeze();
        }

        if (options.ProcessGroup is { WorldSize: > 1 } group)
        {
            if (options.SyncBatchNorm)
            {
                NN.SyncBatchNorm.Convert(student, group);
                if (distiller is not null)
                {
                    NN.SyncBatchNorm.Convert(distiller, group);
                }
            }

            _parallel = new DataParallel(group, [student, distiller], _parameters, _own?.OwnParameters ?? []);
        }
        // A reduced-precision teacher (teacher.precision: bf16) is fed in its dtype; what it gives back is cast to the student's.
        _teacherDType = _teacher?.Parameters().FirstOrDefault()?.DType ?? DType.Float32;

        if (distiller is IUsesClassifierHeads)
        {
            var studentHead = (student as ClassificationModel ?? throw new ArgumentException($"method '{distiller.Name}' reads the student's classifier head, which a {student.GetType().Name} does not have")).Head;
            _studentHead = studentHead.Forward;
            if ((_teacher as ClassificationModel)?.Head is { } teacherHead)
            {
                _teacherHead = x =>
                {
                    using var noGrad = Autograd.NoGrad();
                    return TrainingTeacher.Forward(teacherHead, _teacherDType, x);
                };
            }
        }
    }

    /// <summary>The task the student trains for: its loss comes before the method's terms, and it evaluates every epoch.</summary>
    public ITrainingTask Task => _task;

    /// <summary>The optimizer (student and distiller parameters, less a method's own).</summary>
    public Optimizer Optimizer => _optimizer;

    /// <summary>The learning-rate schedule, stepped after each epoch or (per-iteration schedules) after each optimizer step.</summary>
    public LearningRateScheduler Scheduler => _scheduler;

    /// <summary>The method's own optimizer over <see cref="IHasOwnOptimizer.OwnParameters"/>; null when the method has none.</summary>
    public Optimizer? MethodOptimizer => _methodOptimizer;

    /// <summary>The own optimizer's schedule (the recipe's, or constant), stepped beside <see cref="Scheduler"/>; null when the method has none.</summary>
    public LearningRateScheduler? MethodScheduler => _methodScheduler;

    /// <summary>The job's ranks when training data-parallel with more than one rank; null in one process.</summary>
    private Torch.Distributed.IProcessGroup? Group => _parallel is null ? null : _options.ProcessGroup;

    /// <summary>Runs the epochs; after each, evaluates on <paramref name="test"/>, steps a per-epoch schedule and reports it.</summary>
    /// <exception cref="TrainingDivergedException">A loss term or a weight turned NaN or infinite; the epoch was not reported.</exception>
    /// <param name="train">Training batches.</param>
    /// <param name="test">Evaluation batches.</param>
    /// <param name="progress">Step reports.</param>
    /// <param name="onEpoch">Called after each epoch and its scheduler step (checkpoints, logs).</param>
    /// <param name="startEpoch">The first epoch to run (1-based), after restoring a checkpoint of the one before.</param>
    /// <exception cref="ArgumentException">A loader puts its batches on another device than <see cref="TrainerOptions.Device"/>.</exception>
    public IReadOnlyList<EpochResult> Fit(DataLoader train, DataLoader test, IProgress<TrainingProgress>? progress = null, Action<EpochResult>? onEpoch = null, int startEpoch = 1)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (train.Device != _options.Device || test.Device != _options.Device)
        {
            throw new ArgumentException($"the loaders put batches on {train.Device} and {test.Device} but the trainer runs on {_options.Device}: give both loaders Device = {_options.Device}");
        }

        // Data-parallel: every rank starts from rank 0's weights (its initialisation, or the checkpoint it resumed from).
        _parallel?.SynchronizeState();
        if (_softLabels is not null && !ReferenceEquals(train.RecordedDraws, _softLabels))
        {
            throw new ArgumentException($"the trainer takes the teacher's logits from soft-label store {_softLabels.Path}, so the training loader must replay its draws: give it RecordedDraws = the store");
        }

        var results = new List<EpochResult>();
        for (var epoch = startEpoch; epoch <= _options.Epochs; epoch++)
        {
            var trained = TrainEpoch(epoch, train, progress);
            CheckParameters(epoch, train.BatchCount);
            // Rank 0's BatchNorm statistics for evaluation and the checkpoint (see DataParallel).
            _parallel?.BroadcastBuffers();
            // Data-parallel: each rank evaluates its shard of the test set and the task combines the ranks' results.
            var evaluation = _task.Evaluate(_student, test, group: Group);
            var result = trained with { TestAccuracy = evaluation.Primary, Metrics = evaluation.Metrics, PrimaryMetric = evaluation.PrimaryMetric };
            results.Add(result);
            if (!_options.StepPerIteration)
            {
                _scheduler.Step();
                _methodScheduler?.Step();
            }

            onEpoch?.Invoke(result);
        }

        return results;
    }

    /// <summary>Frees the optimizers' state.</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _methodOptimizer?.Dispose();
        _parallel?.Dispose();
    }

    /// <summary>
    /// Once per epoch, one host sync: every weight finite. A finite loss can still back-propagate a non-finite
    /// gradient at the epoch's last step (earlier ones would make a later loss non-finite); this keeps such weights
    /// out of the checkpoint.
    /// </summary>
    private void CheckParameters(int epoch, int steps)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Autograd.NoGrad();
        var parameters = _student.NamedParameters().Concat(_distiller?.NamedParameters().Select(p => ($"method.{p.Name}", p.Parameter)) ?? []).ToArray();
        if (parameters.Length == 0)
        {
            return;
        }

        var bad = parameters.Select(p => p.Item2.IsFinite().LogicalNot().Sum(DType.Int64)).Aggregate((a, b) => a + b);
        if (bad.Item<long>() == 0)
        {
            return;
        }

        var (name, _) = parameters.First(p => p.Item2.IsFinite().LogicalNot().Sum(DType.Int64).Item<long>() > 0);
        throw new TrainingDivergedException(epoch, steps, $"parameter '{name}'", double.NaN);
    }

    /// <summary>
    /// The teacher's output on <paramref name="images"/>, in their dtype (the caller holds no-grad). No-grad rather than
    /// inference mode: the tapped maps reach losses that may save them for backward, which inference tensors may not be.
    /// </summary>
    private Tensor TeacherForward(Tensor images) => TrainingTeacher.Forward(_teacher!, _teacherDType, images, _options.TeacherInputFormat);

    /// <summary>The student's output on a training batch, the images laid out as <see cref="TrainerOptions.StudentInputFormat"/> says.</summary>
    private Tensor StudentForward(Tensor images) =>
        _student.Forward(_options.StudentInputFormat == MemoryFormat.Contiguous || images.Dim != 4 ? images : images.Contiguous(_options.StudentInputFormat));

    private void Calibrate(ICalibratedMethod calibrated, int epoch, DataLoader train, ModelTaps? studentTaps, ModelTaps? teacherTaps)
    {
        var distiller = _distiller!;
        _student.Eval();
        distiller.Eval();
        calibrated.BeginCalibration();
        try
        {
            // Data-parallel: every rank reads batches of the same size, so the job has read images * W; the ranks stop
            // together after the batches one process would read, and the method combines their sums.
            long images = 0;
            var world = _parallel?.WorldSize ?? 1;
            using var batches = train.Epoch(epoch - 1).GetEnumerator();
            while (images * world < calibrated.CalibrationImages)
            {
                using var scope = DisposeScope.Enter();
                using var noGrad = Autograd.NoGrad();
                if (!batches.MoveNext())
                {
                    break;
                }

                var batch = batches.Current;
                var teacherLogits = _teacher is null ? null : TeacherForward(batch.Images);
                var logits = StudentForward(batch.Images);
                calibrated.Calibrate(new DistillationInputs(logits, teacherLogits, batch.Targets, batch.Indices, studentTaps, teacherTaps, epoch) { ProcessGroup = Group });
                images += batch.Size;
            }
        }
        finally
        {
            calibrated.EndCalibration();
            _student.Train();
            distiller.Train();
        }
    }

    private EpochResult TrainEpoch(int epoch, DataLoader train, IProgress<TrainingProgress>? progress)
    {
        _student.Train();
        _distiller?.Train();
        _distiller?.OnEpochStart(epoch, _options.Epochs);
        var lr = _optimizer.Groups[0].LearningRate;
        var stepLr = lr; // the rate of the latest step (changes within the epoch when the schedule runs per iteration)
        var sums = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Tensor? primarySum = null; // the task's primary metric summed over the samples, in the dtype the task gives (counts: Int64)
        // The student's taps: the method's and the task's own (segmentation: the auxiliary head's logits).
        IReadOnlyList<string> studentTapNames = [.. (_distiller?.StudentTaps ?? []).Concat(_taskTaps).Distinct(StringComparer.Ordinal)];
        using var studentTaps = studentTapNames.Count > 0 ? _student.TapFeatures(studentTapNames) : null;
        if (studentTaps is not null)
        {
            studentTaps.ReadContiguous = _options.StudentInputFormat != MemoryFormat.Contiguous;
        }

        using var teacherTaps = _teacher is not null && _distiller is { TeacherTaps.Count: > 0 } ? _teacher.TapFeatures(_distiller.TeacherTaps) : null;
        if (teacherTaps is not null)
        {
            teacherTaps.ReadAs = _teacherDType != DType.Float32 ? DType.Float32 : null;
            teacherTaps.ReadContiguous = _options.TeacherInputFormat != MemoryFormat.Contiguous;
        }

        if (_distiller is ICalibratedMethod calibrated && calibrated.NeedsCalibration(epoch))
        {
            Calibrate(calibrated, epoch, train, studentTaps, teacherTaps);
        }

        var clock = Stopwatch.StartNew();
        long images = 0;
        var step = 0;
        var steps = train.BatchCount;

        // Divergence is detected without a host sync per step: a non-finite term makes its running sum non-finite,
        // and the sums come to the host every 10 steps anyway. The terms of the steps since the last look are kept
        // (detached scalars, no copy), so the first bad step and term can be named when a sum goes bad.
        var window = new List<(int Step, string Name, Tensor Value)>();
        try
        {
            // The batch's tensors are made by MoveNext, so it runs inside the step's scope.
            using var batches = train.Epoch(epoch - 1).GetEnumerator();
            while (true)
            {
                using var scope = DisposeScope.Enter();
                if (!batches.MoveNext())
                {
                    break;
                }

                var batch = batches.Current;
                Tensor? teacherLogits = null;
                if (_softLabels is not null)
                {
                    teacherLogits = _softLabels.TeacherLogits(batch.Indices, batch.Draws!, _options.Device);
                }
                else if (_teacher is not null)
                {
                    using var noGrad = Autograd.NoGrad();
                    teacherLogits = TeacherForward(batch.Images);
                }

                var logits = StudentForward(batch.Images);
                var inputs = new DistillationInputs(logits, teacherLogits, batch.Targets, batch.Indices, studentTaps, teacherTaps, epoch)
                {
                    StudentHead = _studentHead,
                    TeacherHead = _teacherHead,
                    Iteration = ((epoch - 1) * steps) + step + 1,
                    ProcessGroup = Group,
                };
                var terms = _task.StepLoss(_distiller, inputs);

                var total = terms.Total();
                _optimizer.ZeroGrad();
                total.Backward();
                _parallel?.AverageGradients();
                if (_options.GradClip > 0)
                {
                    GradientClipping.ClipGradNorm(_parameters, _options.GradClip);
                }

                stepLr = _optimizer.Groups[0].LearningRate;
                _optimizer.Step();
                var ownTerms = _own is null ? null : OwnStep(inputs, terms);
                if (_options.StepPerIteration)
                {
                    _scheduler.Step();
                    _methodScheduler?.Step();
                }

                using (Autograd.NoGrad())
                {
                    foreach (var (name, value) in ownTerms is null ? terms.Terms : terms.Terms.Concat(ownTerms.Terms))
                    {
                        if (!sums.TryGetValue(name, out var sum))
                        {
                            sum = Tensor.Zeros([], device: _options.Device).DetachFromScope();
                            sums[name] = sum;
                        }

                        var detached = value.Detach();
                        sum.AddInPlace(detached);
                        window.Add((step + 1, name, detached.DetachFromScope()));
                    }

                    var metric = _task.PrimarySum(logits, batch.Targets);
                    primarySum ??= Tensor.Zeros([], metric.DType, _options.Device).DetachFromScope();
                    primarySum.AddInPlace(metric);
                }

                images += batch.Size;
                step++;
                if (step % 10 == 0 || step == steps)
                {
                    // Every 10 steps the running sums come to the host (one small copy per term).
                    var (means, primary, seen) = HostMeans(sums, primarySum, step, images);
                    progress?.Report(new TrainingProgress(epoch, step, steps, means.Where(m => !_ownTermNames.Contains(m.Key)).Sum(m => m.Value), seen / clock.Elapsed.TotalSeconds,
                        means, primary, stepLr));
                    CheckWindow(epoch, window, means.Values.All(double.IsFinite));
                }
            }

            if (window.Count > 0)
            {
                CheckWindow(epoch, window, sums.Values.All(s => float.IsFinite(s.Item<float>())));
            }

            var seconds = clock.Elapsed.TotalSeconds;
            var (terms2, trainPrimary, allImages) = HostMeans(sums, primarySum, Math.Max(1, step), images);
            return new EpochResult(epoch, lr, terms2, trainPrimary, 0, allImages / seconds, seconds)
            {
                OwnLossTerms = [.. _ownTermNames.Order(StringComparer.Ordinal)],
            };
        }
        finally
        {
            primarySum?.Dispose();
            foreach (var s in sums.Values)
            {
                s.Dispose();
            }

            foreach (var (_, _, value) in window)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>
    /// The method's own step (<see cref="IHasOwnOptimizer"/>), after the main step: its parameters' gradients cleared
    /// (dropping those the student's terms left), its loss on the step's inputs with the student side detached
    /// back-propagated, its optimizer stepped. Returns the own terms (their names are kept out of the logged total).
    /// </summary>
    /// <exception cref="InvalidOperationException">An own term has the name of one of the step's other terms.</exception>
    private LossTerms OwnStep(DistillationInputs inputs, LossTerms terms)
    {
        _methodOptimizer!.ZeroGrad();
        var ownTerms = _own!.ComputeOwnLoss(inputs.DetachStudent());
        foreach (var (name, _) in ownTerms.Terms)
        {
            if (terms.Terms.Any(t => t.Name == name))
            {
                throw new InvalidOperationException($"method '{_distiller!.Name}': its own loss term '{name}' has the name of a term of the student's loss");
            }

            _ownTermNames.Add(name);
        }

        ownTerms.Total().Backward();
        _parallel?.AverageOwnGradients();
        _methodOptimizer.Step();
        return ownTerms;
    }

    /// <summary>
    /// The loss terms' means over <paramref name="steps"/>, the primary metric's mean over <paramref name="images"/> and the
    /// images seen, on the host. Data-parallel: the sums and counts of every rank are summed first (for display and the
    /// epoch's log: ranks average over the whole job's batches), so every rank reports the same values.
    /// </summary>
    private (Dictionary<string, double> Means, double Primary, long Images) HostMeans(Dictionary<string, Tensor> sums, Tensor? primarySum, int steps, long images)
    {
        if (_parallel is null)
        {
            return (sums.ToDictionary(s => s.Key, s => (double)s.Value.Item<float>() / steps, StringComparer.Ordinal), Mean(primarySum, Math.Max(1, images)), images);
        }

        using var scope = DisposeScope.Enter();
        using var noGrad = Autograd.NoGrad();
        var names = sums.Keys.Order(StringComparer.Ordinal).ToArray();
        var device = primarySum?.Device ?? _options.Device;
        var count = Tensor.From(new[] { images }, 1).To(device);
        List<Tensor> reduced = [.. names.Select(n => sums[n].To(DType.Float64)), count];
        if (primarySum is not null)
        {
            reduced.Add(primarySum.Clone());
        }

        _parallel.SumInPlace(reduced);
        var world = _parallel.WorldSize;
        var means = names.Select((n, i) => (n, reduced[i].Item<double>() / (steps * (double)world))).ToDictionary(m => m.n, m => m.Item2, StringComparer.Ordinal);
        var allImages = reduced[names.Length].Item<long>();
        return (means, primarySum is null ? 0 : Mean(reduced[^1], Math.Max(1, allImages)), allImages);
    }

    /// <summary>A device sum over <paramref name="count"/> samples on the host: exact for an Int64 count, as a double for a float sum.</summary>
    private static double Mean(Tensor? sum, long count) =>
        sum is null ? 0 : (sum.DType == DType.Int64 ? (double)sum.Item<long>() : sum.To(DType.Float64).Item<double>()) / count;

    /// <summary>When the sums went non-finite, names the first step and term of the window that did; then empties the window.</summary>
    private static void CheckWindow(int epoch, List<(int Step, string Name, Tensor Value)> window, bool finite)
    {
        if (!finite)
        {
            foreach (var (step, name, value) in window)
            {
                var v = value.Item<float>();
                if (!float.IsFinite(v))
                {
                    throw new TrainingDivergedException(epoch, step, name, v);
                }
            }

            // Two finite terms cannot make a non-finite sum unless it overflowed: report the window's last step.
            var last = window[^1];
            throw new TrainingDivergedException(epoch, last.Step, last.Name, double.PositiveInfinity);
        }

        foreach (var (_, _, value) in window)
        {
            value.Dispose();
        }

        window.Clear();
    }
}
