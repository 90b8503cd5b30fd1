using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Segmentation;
using Distill.NN.Data;
using Distill.NN.Optim;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The segmentation training steps the segmentation benchmark times, beside seg_step_bench.py's: the scene pair
/// (scene_teacher, scene_student: 1x64x64, 11 classes, 8x8 logits, aux head) on one fixed batch of 32 random images and
/// masks (about 5% ignored), SGD lr 0.05 momentum 0.9 weight decay 5e-4, the segmentation task's loss (pixel CE with
/// ignore 255 on the logits resized with align_corners, + 0.4 aux CE). Each row's step is the trainer's
/// (<see cref="Trainer"/>'s epoch loop without its running sums): the frozen teacher under no-grad, the student with the
/// method's and the task's taps, the task's StepLoss with the method's terms, backward, SGD, then a method's own step
/// (<see cref="IHasOwnOptimizer"/>: skd's discriminator) on the detached step. Methods are built as a segmentation
/// recipe builds them (their segmentation preset, no options given), with the trainer's optimizer factory.
/// </summary>
internal sealed class SegStep : ITimedSteps, IDisposable
{
    /// <summary>The batch size of every step.</summary>
    public const int Batch = 32;

    /// <summary>The rows, in the order they are timed (seg_step_bench.py's ROWS).</summary>
    public static readonly string[] Rows = ["teacher_ce", "teacher_inference", "student_ce", "cwd", "mgd", "tfd", "kd", "skd"];

    private static readonly ModelOptions Scene = new(11, 1, 64);

    private static readonly TrainerOptions Recipe = new() { Optimizer = "sgd", LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4 };

    private readonly Tensor _x;
    private readonly MaskBatch _targets;
    private readonly Tensor _indices;
    private readonly SegmentationModel _frozen;
    private readonly Dictionary<string, Learner> _learners = new(StringComparer.Ordinal);

    /// <summary>Seeds torch with 0, builds the batch, the frozen teacher and one learner per training row on <paramref name="device"/>.</summary>
    public SegStep(Device device)
    {
        TorchRuntime.ManualSeed(0);
        using (DisposeScope.Enter())
        {
            _x = Tensor.Randn([Batch, 1, 64, 64]).To(device).DetachFromScope();
            var masks = Tensor.RandInt(0, Scene.NumClasses, [Batch, 64, 64]);
            var ignored = Tensor.Rand([Batch, 64, 64]) < 0.05;
            _targets = new MaskBatch(masks.MaskedFill(ignored, Mask.Ignore).To(device).DetachFromScope());
            _indices = Tensor.Arange(Batch).To(device).DetachFromScope();
        }

        _frozen = SegmentationModels.Create("scene_teacher", Scene);
        _learners["teacher_ce"] = new Learner(SegmentationModels.Create("scene_teacher", Scene), null, null, device);
        _learners["student_ce"] = new Learner(SegmentationModels.Create("scene_student", Scene), null, null, device);
        foreach (var method in Rows[3..])
        {
            var student = SegmentationModels.Create("scene_student", Scene);
            var distiller = MethodBuilder.Create(new MethodConfig { Name = method }, MethodContext.FromModels(student, _frozen, Scene), MethodDescriptor.Segmentation);
            _learners[method] = new Learner(student, distiller, _frozen, device);
        }

        _frozen.To(device);
        _frozen.Eval();
        _frozen.Freeze();
    }

    /// <summary>
    /// Starts timing <paramref name="row"/> (its taps recorded until the session is disposed, as the trainer records
    /// them for an epoch); the session's <see cref="Session.Step"/> runs one step.
    /// </summary>
    public Session Begin(string row) => row == "teacher_inference" ? new Session(null, null, this) : _learners[row].Begin(this);

    /// <inheritdoc />
    IReadOnlyList<string> ITimedSteps.Rows => Rows;

    /// <inheritdoc />
    int ITimedSteps.Batch => Batch;

    /// <inheritdoc />
    ITimedStep ITimedSteps.Begin(string row) => Begin(row);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var learner in _learners.Values)
        {
            learner.Dispose();
        }

        _frozen.Dispose();
        _indices.Dispose();
        _targets.Masks.Dispose();
        _x.Dispose();
    }

    /// <summary>One row's recorded taps while it is timed.</summary>
    internal sealed class Session : ITimedStep
    {
        private readonly Learner? _learner;
        private readonly ModelTaps? _studentTaps;
        private readonly ModelTaps? _teacherTaps;
        private readonly SegStep _owner;

        public Session(Learner? learner, (ModelTaps? Student, ModelTaps? Teacher)? taps, SegStep owner)
        {
            _learner = learner;
            (_studentTaps, _teacherTaps) = taps ?? (null, null);
            _owner = owner;
        }

        /// <summary>One step: a training step of the row's learner, or a no-grad forward of the frozen teacher.</summary>
        public void Step()
        {
            if (_learner is null)
            {
                using var noGrad = Autograd.NoGrad();
                _owner._frozen.Forward(_owner._x);
                return;
            }

            _learner.Step(_owner, _studentTaps, _teacherTaps);
        }

        /// <inheritdoc />
        public void Dispose()
        {
            _studentTaps?.Dispose();
            _teacherTaps?.Dispose();
        }
    }

    /// <summary>A model in training with its method (or none), optimizer and the method's own optimizer.</summary>
    internal sealed class Learner : IDisposable
    {
        private readonly SegmentationModel _model;
        private readonly Distiller? _distiller;
        private readonly SegmentationModel? _teacher;
        private readonly Optimizer _optimizer;
        private readonly IHasOwnOptimizer? _own;
        private readonly Optimizer? _ownOptimizer;
        private readonly string[] _studentTaps;
        private int _iteration;

        public Learner(SegmentationModel model, Distiller? distiller, SegmentationModel? teacher, Device device)
        {
            _model = model;
            _distiller = distiller;
            _teacher = distiller is { NeedsTeacher: true } ? teacher : null;
            model.To(device);
            distiller?.To(device);
            model.Train();
            distiller?.Train();
            distiller?.OnEpochStart(1, 1);
            _optimizer = OptimizerFactory.Create(OptimizerFactory.Groups(model, distiller, Recipe), Recipe);
            if (distiller is IHasOwnOptimizer { OwnParameters.Count: > 0 } own)
            {
                _own = own;
                _ownOptimizer = OptimizerFactory.CreateOwn(distiller, own, Recipe.WeightDecay);
            }

            _studentTaps = [.. (distiller?.StudentTaps ?? []).Concat(SegmentationTask.Default.StudentTaps(model)).Distinct(StringComparer.Ordinal)];
        }

        public Session Begin(SegStep owner)
        {
            var student = _studentTaps.Length > 0 ? _model.TapFeatures(_studentTaps) : null;
            var teacher = _teacher is not null && _distiller is { TeacherTaps.Count: > 0 } ? _teacher.TapFeatures(_distiller.TeacherTaps) : null;
            return new Session(this, (student, teacher), owner);
        }

        public void Step(SegStep owner, ModelTaps? studentTaps, ModelTaps? teacherTaps)
        {
            Tensor? teacherLogits = null;
            if (_teacher is not null)
            {
                using var noGrad = Autograd.NoGrad();
                teacherLogits = _teacher.Forward(owner._x);
            }

            var logits = _model.Forward(owner._x);
            var inputs = new DistillationInputs(logits, teacherLogits, owner._targets, owner._indices, studentTaps, teacherTaps, 1) { Iteration = ++_iteration };
            var terms = SegmentationTask.Default.StepLoss(_distiller, inputs);
            _optimizer.ZeroGrad();
            terms.Total().Backward();
            _optimizer.Step();
            if (_own is not null)
            {
                _ownOptimizer!.ZeroGrad();
                _own.ComputeOwnLoss(inputs.DetachStudent()).Total().Backward();
                _ownOptimizer.Step();
            }
        }

        public void Dispose()
        {
            _ownOptimizer?.Dispose();
            _optimizer.Dispose();
            _distiller?.Dispose();
            _model.Dispose();
        }
    }
}
