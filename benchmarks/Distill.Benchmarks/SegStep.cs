using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Segmentation;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The segmentation training steps the segmentation benchmark times, beside seg_step_bench.py's: the scene pair
/// (scene_teacher, scene_student: 1x64x64, 11 classes, 8x8 logits, aux head) on one fixed batch of 32 random images and
/// masks (about 5% ignored), SGD lr 0.05 momentum 0.9 weight decay 5e-4, the segmentation task's loss (pixel CE with
/// ignore 255 on the logits resized with align_corners, + 0.4 aux CE). Each row steps as the trainer does
/// (<see cref="TrainingStepRows{TModel}"/>; no clipping, and skd's discriminator takes its own step). Methods are built
/// as a segmentation recipe builds them (their segmentation preset, no options given), with the trainer's optimizer
/// factory.
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
    private readonly TrainingStepRows<SegmentationModel> _rows;

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

        var frozen = SegmentationModels.Create("scene_teacher", Scene);
        _rows = new TrainingStepRows<SegmentationModel>(_x, _targets, _indices, frozen, SegmentationTask.Default, Recipe);
        _rows.Add("teacher_ce", SegmentationModels.Create("scene_teacher", Scene), null, device);
        _rows.Add("student_ce", SegmentationModels.Create("scene_student", Scene), null, device);
        foreach (var method in Rows[3..])
        {
            var student = SegmentationModels.Create("scene_student", Scene);
            var distiller = MethodBuilder.Create(new MethodConfig { Name = method }, MethodContext.FromModels(student, frozen, Scene), MethodDescriptor.Segmentation);
            _rows.Add(method, student, distiller, device);
        }

        _rows.FreezeTeacher(device);
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
        _targets.Masks.Dispose();
        _x.Dispose();
    }
}
