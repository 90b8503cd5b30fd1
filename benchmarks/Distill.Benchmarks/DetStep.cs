using System.Text.Json;
using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The detection training steps the detection benchmark times, beside det_step_bench.py's: the CPU-sized FCOS pair
/// (det_scene_teacher, det_scene_student: 1x96x96, 10 classes, P2-P4) on one fixed batch of the first 16 scenes of the
/// detection scene set's train split (normalised as the recipes normalise them), SGD lr 0.01 momentum 0.9 weight decay
/// 1e-4, the global gradient norm clipped to 35, the detection task's loss (FCOS: focal, GIoU weighted by centerness,
/// centerness BCE, with the targets assigned at every step). Each row steps as the trainer does
/// (<see cref="TrainingStepRows{TModel}"/>, with clipping; a method with its own optimizer step is refused). Methods are
/// built as a detection recipe builds them (their detection preset, no options given), with the trainer's optimizer
/// factory. <see cref="Export"/> writes the
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
    private readonly TrainingStepRows<FcosDetector> _rows;

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

        var frozen = DetectionModels.Create("det_scene_teacher", Scene);
        _rows = new TrainingStepRows<FcosDetector>(_x, _targets, _indices, frozen, DetectionTask.Default, Recipe);
        _rows.Add("teacher", DetectionModels.Create("det_scene_teacher", Scene), null, device);
        _rows.Add("student", DetectionModels.Create("det_scene_student", Scene), null, device);
        foreach (var method in Rows[3..])
        {
            var student = DetectionModels.Create("det_scene_student", Scene);
            var distiller = MethodBuilder.Create(new MethodConfig { Name = method }, MethodContext.FromModels(student, frozen, Scene), MethodDescriptor.Detection);
            if (distiller is IHasOwnOptimizer { OwnParameters.Count: > 0 })
            {
                throw new NotSupportedException($"{distiller.Name} has its own optimizer step, which the detection benchmark does not time");
            }

            _rows.Add(method, student, distiller, device);
        }

        _rows.FreezeTeacher(device);
    }

    /// <summary>The positive locations FCOS's assignment gives the batch (the PyTorch side reports its own count for the same boxes).</summary>
    public long Positives()
    {
        using var scope = DisposeScope.Enter();
        var levels = _rows.Frozen.Levels((int)_x.Size(2), (int)_x.Size(3));
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

    /// <inheritdoc />
    IReadOnlyList<string> ITimedSteps.Rows => Rows;

    /// <inheritdoc />
    int ITimedSteps.Batch => Batch;

    /// <inheritdoc />
    public ITimedStep Begin(string row) => _rows.Begin(row);

    /// <inheritdoc />
    public void Dispose()
    {
        _rows.Dispose();
        _indices.Dispose();
        foreach (var t in _targets.Boxes.Concat(_targets.Labels).Concat(_targets.Crowd).Concat(_targets.Areas))
        {
            t.Dispose();
        }

        _x.Dispose();
    }
}
