using System.Text.Json;
using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.NN.Optim;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The detection training steps the detection benchmark times, beside det_step_bench.py's: the CPU-sized FCOS pair
/// (det_scene_teacher, det_scene_student: 1x96x96, 10 classes, P2-P4) on one fixed batch of the first 16 scenes of the
/// detection scene set's train split (normalised as the recipes normalise them), SGD lr 0.01 momentum 0.9 weight decay
/// 1e-4, the global gradient norm clipped to 35, the detection task's loss (FCOS: focal, GIoU weighted by centerness,
/// centerness BCE, with the targets assigned at every step). Each row's step is the trainer's (<see cref="Trainer"/>'s
/// epoch loop without its running sums): the frozen teacher under no-grad, the student with the method's taps, the
/// task's StepLoss with the method's terms, backward, clipping, SGD. Methods are built as a detection recipe builds them
/// (their detection preset, no options given), with the trainer's optimizer factory. <see cref="Export"/> writes the
/// batch for the PyTorch side, so both train on the same images and boxes.
/// </summary>
internal sealed class DetStep : ITimedSteps, IDisposable
{
    /// <summary>The batch size of every step.</summary>
    public const int Batch = 16;

    /// <summary>The global gradient norm every step clips to.</summary>
    public const double GradClip = 35;

    /// <summary>The rows, in the order they are timed (det_step_bench.py's ROWS).</summary>
    public static readonly string[] Rows = ["teacher", "teacher_inference", "student", "fgd", "mgd", "cwd", "skd_det"];

    private static readonly ModelOptions Scene = DetectionModels.DefaultOptions("det_scene_student");

    private static readonly TrainerOptions Recipe = new() { Optimizer = "sgd", LearningRate = 0.01, Momentum = 0.9, WeightDecay = 1e-4, GradClip = GradClip };

    private readonly float[] _pixels;
    private readonly Boxes[] _boxes;
    private readonly Tensor _x;
    private readonly BoxBatch _targets;
    private readonly Tensor _indices;
    private readonly FcosDetector _frozen;
    private readonly Dictionary<string, Learner> _learners = new(StringComparer.Ordinal);

    /// <summary>Seeds torch with 0, builds the batch, the frozen teacher and one learner per training row on <paramref name="device"/>.</summary>
    public DetStep(Device device)
    {
        TorchRuntime.ManualSeed(0);
        var set = DetectionSceneSet.Load(SceneSplit.Train);
        var normalize = new Normalize([DetectionSceneSet.Mean], [DetectionSceneSet.Std]);
        var random = new Random(0);
        var samples = Enumerable.Range(0, Batch).Select(i => set.Get(i)).Select(s => normalize.Apply(s.Image, s.Target, random)).ToArray();
        _pixels = [.. samples.SelectMany(s => s.Image.Data)];
        _boxes = [.. samples.Select(s => (Boxes)s.Target)];
        using (DisposeScope.Enter())
        {
            var image = samples[0].Image;
            _x = Tensor.From(_pixels, Batch, image.Channels, image.Height, image.Width).To(device).DetachFromScope();
            var gathered = BoxCollator.Instance.Gather(_boxes).ToBatch(t => t.To(device).DetachFromScope());
            _targets = (BoxBatch)gathered;
            _indices = Tensor.Arange(Batch).To(device).DetachFromScope();
        }

        _frozen = DetectionModels.Create("det_scene_teacher", Scene);
        _learners["teacher"] = new Learner(DetectionModels.Create("det_scene_teacher", Scene), null, null, device);
        _learners["student"] = new Learner(DetectionModels.Create("det_scene_student", Scene), null, null, device);
        foreach (var method in Rows[3..])
        {
            var student = DetectionModels.Create("det_scene_student", Scene);
            var distiller = MethodBuilder.Create(new MethodConfig { Name = method }, MethodContext.FromModels(student, _frozen, Scene), MethodDescriptor.Detection);
            _learners[method] = new Learner(student, distiller, _frozen, device);
        }

        _frozen.To(device);
        _frozen.Eval();
        _frozen.Freeze();
    }

    /// <summary>The positive locations FCOS's assignment gives the batch (the PyTorch side reports its own count for the same boxes).</summary>
    public long Positives()
    {
        using var scope = DisposeScope.Enter();
        var levels = _frozen.Levels((int)_x.Size(2), (int)_x.Size(3));
        var assigned = FcosTargets.Assign(_targets, levels, FcosTargets.DefaultCenterSamplingRadius, _x.Device);
        return (assigned.Labels > 0.0).Sum().Item<long>();
    }

    /// <summary>
    /// Writes the batch to <paramref name="path"/> as JSON: "shape" [B, C, H, W], "images" (the normalised float32
    /// pixels, little-endian, base64), and per image "boxes" (x1, y1, x2, y2), "labels", "crowd", "areas" and "size" (H, W).
    /// </summary>
    public void Export(string path)
    {
        var bytes = new byte[_pixels.Length * sizeof(float)];
        Buffer.BlockCopy(_pixels, 0, bytes, 0, bytes.Length);
        var document = new
        {
            shape = _x.Shape.ToArray(),
            images = Convert.ToBase64String(bytes),
            targets = _boxes.Select(b => new
            {
                boxes = Enumerable.Range(0, b.Count).Select(j => b.Coordinates.Skip(4 * j).Take(4).ToArray()).ToArray(),
                labels = b.Labels,
                crowd = b.Crowd,
                areas = b.Areas,
                size = new[] { b.Height, b.Width },
            }).ToArray(),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document));
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
        foreach (var t in _targets.Boxes.Concat(_targets.Labels).Concat(_targets.Crowd).Concat(_targets.Areas))
        {
            t.Dispose();
        }

        _x.Dispose();
    }

    /// <summary>One row's recorded taps while it is timed.</summary>
    internal sealed class Session : ITimedStep
    {
        private readonly Learner? _learner;
        private readonly ModelTaps? _studentTaps;
        private readonly ModelTaps? _teacherTaps;
        private readonly DetStep _owner;

        public Session(Learner? learner, (ModelTaps? Student, ModelTaps? Teacher)? taps, DetStep owner)
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

    /// <summary>A detector in training with its method (or none), its task bound to it, and the optimizer.</summary>
    internal sealed class Learner : IDisposable
    {
        private readonly FcosDetector _model;
        private readonly Distiller? _distiller;
        private readonly FcosDetector? _teacher;
        private readonly ITrainingTask _task;
        private readonly Tensor[] _parameters;
        private readonly Optimizer _optimizer;
        private readonly string[] _studentTaps;
        private int _iteration;

        public Learner(FcosDetector model, Distiller? distiller, FcosDetector? teacher, Device device)
        {
            if (distiller is IHasOwnOptimizer { OwnParameters.Count: > 0 })
            {
                throw new NotSupportedException($"{distiller.Name} has its own optimizer step, which the detection benchmark does not time");
            }

            _model = model;
            _distiller = distiller;
            _teacher = distiller is { NeedsTeacher: true } ? teacher : null;
            model.To(device);
            distiller?.To(device);
            model.Train();
            distiller?.Train();
            distiller?.OnEpochStart(1, 1);
            _task = DetectionTask.Default.ForModel(model);
            var groups = OptimizerFactory.Groups(model, distiller, Recipe);
            _parameters = [.. groups.SelectMany(g => g.Parameters)];
            _optimizer = OptimizerFactory.Create(groups, Recipe);
            _studentTaps = [.. (distiller?.StudentTaps ?? []).Concat(_task.StudentTaps(model)).Distinct(StringComparer.Ordinal)];
        }

        public Session Begin(DetStep owner)
        {
            var student = _studentTaps.Length > 0 ? _model.TapFeatures(_studentTaps) : null;
            var teacher = _teacher is not null && _distiller is { TeacherTaps.Count: > 0 } ? _teacher.TapFeatures(_distiller.TeacherTaps) : null;
            return new Session(this, (student, teacher), owner);
        }

        public void Step(DetStep owner, ModelTaps? studentTaps, ModelTaps? teacherTaps)
        {
            Tensor? teacherOutput = null;
            if (_teacher is not null)
            {
                using var noGrad = Autograd.NoGrad();
                teacherOutput = _teacher.Forward(owner._x);
            }

            var output = _model.Forward(owner._x);
            var inputs = new DistillationInputs(output, teacherOutput, owner._targets, owner._indices, studentTaps, teacherTaps, 1) { Iteration = ++_iteration };
            var terms = _task.StepLoss(_distiller, inputs);
            _optimizer.ZeroGrad();
            terms.Total().Backward();
            GradientClipping.ClipGradNorm(_parameters, Recipe.GradClip);
            _optimizer.Step();
        }

        public void Dispose()
        {
            _optimizer.Dispose();
            _distiller?.Dispose();
            _model.Dispose();
        }
    }
}
