using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.NN.Optim;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The rows of a dense-task step benchmark (<see cref="SegStep"/>, <see cref="DetStep"/>) on one fixed batch: the
/// "teacher_inference" row (a no-grad forward of the frozen teacher) and one learner per training row. A learner's step
/// is the trainer's (<see cref="Trainer"/>'s epoch loop without its running sums): the frozen teacher under no-grad,
/// the student with the method's and the task's taps, the task's StepLoss with the method's terms, backward, the
/// global gradient norm clipped when the recipe clips, the optimizer, then a method's own step
/// (<see cref="IHasOwnOptimizer"/>) on the detached step. Owns the learners and the frozen teacher; the batch stays
/// its caller's.
/// </summary>
/// <typeparam name="TModel">The task's network type.</typeparam>
internal sealed class TrainingStepRows<TModel> : IDisposable
    where TModel : TappedModel<Tensor>
{
    /// <summary>The row that times the frozen teacher's forward.</summary>
    public const string TeacherInference = "teacher_inference";

    private readonly Tensor _x;
    private readonly IBatchTargets _targets;
    private readonly Tensor _indices;
    private readonly ITrainingTask _task;
    private readonly TrainerOptions _recipe;
    private readonly Dictionary<string, Learner> _learners = new(StringComparer.Ordinal);

    /// <summary>Creates the rows on the batch <paramref name="x"/> with its targets and indices; add the training rows with <see cref="Add"/>.</summary>
    /// <param name="x">The images of every step.</param>
    /// <param name="targets">The batch's targets.</param>
    /// <param name="indices">The batch's data-set indices.</param>
    /// <param name="frozen">The teacher the methods read and the "teacher_inference" row runs (frozen by <see cref="FreezeTeacher"/>).</param>
    /// <param name="task">The task; each learner's is <see cref="ITrainingTask.ForModel"/> of its network.</param>
    /// <param name="recipe">The optimizer, its settings and the gradient clipping.</param>
    public TrainingStepRows(Tensor x, IBatchTargets targets, Tensor indices, TModel frozen, ITrainingTask task, TrainerOptions recipe)
    {
        (_x, _targets, _indices, Frozen, _task, _recipe) = (x, targets, indices, frozen, task, recipe);
    }

    /// <summary>The frozen teacher.</summary>
    public TModel Frozen { get; }

    /// <summary>Adds the training row <paramref name="row"/>: <paramref name="model"/> trained with <paramref name="distiller"/> (or alone), moved to <paramref name="device"/>.</summary>
    public void Add(string row, TModel model, Distiller? distiller, Device device) => _learners[row] = new Learner(this, model, distiller, device);

    /// <summary>Moves the teacher to <paramref name="device"/>, in eval mode, without gradients (after every row is added).</summary>
    public void FreezeTeacher(Device device)
    {
        Frozen.To(device);
        Frozen.Eval();
        Frozen.Freeze();
    }

    /// <summary>
    /// Starts timing <paramref name="row"/> (its taps recorded until the session is disposed, as the trainer records
    /// them for an epoch); the session's <see cref="ITimedStep.Step"/> runs one step.
    /// </summary>
    public ITimedStep Begin(string row) => row == TeacherInference ? new Session(this, null, null, null) : _learners[row].Begin();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var learner in _learners.Values)
        {
            learner.Dispose();
        }

        Frozen.Dispose();
    }

    /// <summary>One row's recorded taps while it is timed.</summary>
    private sealed class Session(TrainingStepRows<TModel> owner, Learner? learner, ModelTaps? studentTaps, ModelTaps? teacherTaps) : ITimedStep
    {
        /// <summary>One step: a training step of the row's learner, or a no-grad forward of the frozen teacher.</summary>
        public void Step()
        {
            if (learner is null)
            {
                using var noGrad = Autograd.NoGrad();
                owner.Frozen.Forward(owner._x);
                return;
            }

            learner.Step(studentTaps, teacherTaps);
        }

        /// <inheritdoc />
        public void Dispose()
        {
            studentTaps?.Dispose();
            teacherTaps?.Dispose();
        }
    }

    /// <summary>A network in training with its method (or none), its task bound to it, the optimizer and the method's own optimizer.</summary>
    private sealed class Learner : IDisposable
    {
        private readonly TrainingStepRows<TModel> _owner;
        private readonly TModel _model;
        private readonly Distiller? _distiller;
        private readonly TModel? _teacher;
        private readonly ITrainingTask _task;
        private readonly Tensor[] _parameters;
        private readonly Optimizer _optimizer;
        private readonly IHasOwnOptimizer? _own;
        private readonly Optimizer? _ownOptimizer;
        private readonly string[] _studentTaps;
        private int _iteration;

        public Learner(TrainingStepRows<TModel> owner, TModel model, Distiller? distiller, Device device)
        {
            _owner = owner;
            _model = model;
            _distiller = distiller;
            _teacher = distiller is { NeedsTeacher: true } ? owner.Frozen : null;
            model.To(device);
            distiller?.To(device);
            model.Train();
            distiller?.Train();
            distiller?.OnEpochStart(1, 1);
            _task = owner._task.ForModel(model);
            var groups = OptimizerFactory.Groups(model, distiller, owner._recipe);
            _parameters = [.. groups.SelectMany(g => g.Parameters)];
            _optimizer = OptimizerFactory.Create(groups, owner._recipe);
            if (distiller is IHasOwnOptimizer { OwnParameters.Count: > 0 } own)
            {
                _own = own;
                _ownOptimizer = OptimizerFactory.CreateOwn(distiller, own, owner._recipe.WeightDecay);
            }

            _studentTaps = [.. (distiller?.StudentTaps ?? []).Concat(_task.StudentTaps(model)).Distinct(StringComparer.Ordinal)];
        }

        public Session Begin()
        {
            var student = _studentTaps.Length > 0 ? _model.TapFeatures(_studentTaps) : null;
            var teacher = _teacher is not null && _distiller is { TeacherTaps.Count: > 0 } ? _teacher.TapFeatures(_distiller.TeacherTaps) : null;
            return new Session(_owner, this, student, teacher);
        }

        public void Step(ModelTaps? studentTaps, ModelTaps? teacherTaps)
        {
            Tensor? teacherOutput = null;
            if (_teacher is not null)
            {
                using var noGrad = Autograd.NoGrad();
                teacherOutput = _teacher.Forward(_owner._x);
            }

            var output = _model.Forward(_owner._x);
            var inputs = new DistillationInputs(output, teacherOutput, _owner._targets, _owner._indices, studentTaps, teacherTaps, 1) { Iteration = ++_iteration };
            var terms = _task.StepLoss(_distiller, inputs);
            _optimizer.ZeroGrad();
            terms.Total().Backward();
            if (_owner._recipe.GradClip > 0)
            {
                GradientClipping.ClipGradNorm(_parameters, _owner._recipe.GradClip);
            }

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
