using Distill.Methods;
using Distill.Models;
using Distill.NN.Optim;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Benchmarks;

/// <summary>
/// The training steps the speed checks time, beside kd_step_bench.py's: a resnet32x4 teacher (eval, frozen, no-grad)
/// and a resnet8x4 student with SGD (lr 0.05, momentum 0.9, weight decay 5e-4) on one fixed batch of 64 random
/// 3x32x32 images. EndToEnd runs it on the CPU; eng/gpu/Distill.GpuCheck compiles this file in (linked) and runs it
/// on the device, so both report the same step.
/// </summary>
internal sealed class KdStep : IDisposable
{
    /// <summary>The batch size of every step.</summary>
    public const int Batch = 64;

    private readonly ClassificationModel _teacher;
    private readonly ClassificationModel _student;
    private readonly Sgd _optimizer;
    private readonly Tensor _x;
    private readonly Tensor _y;
    private readonly KnowledgeDistillation _kd = new();
    private ClassificationModel? _teacher16;

    /// <summary>Seeds torch with 0 and builds the models, optimizer and batch on <paramref name="device"/>.</summary>
    public KdStep(Device device)
    {
        TorchRuntime.ManualSeed(0);
        _teacher = ModelRegistry.Create("resnet32x4");
        _student = ModelRegistry.Create("resnet8x4");
        _teacher.To(device);
        _student.To(device);
        _teacher.Eval();
        _teacher.Freeze();
        _optimizer = new Sgd(_student.Parameters(), 0.05, momentum: 0.9, weightDecay: 5e-4);
        using (DisposeScope.Enter())
        {
            _x = Tensor.Randn([Batch, 3, 32, 32]).To(device).DetachFromScope();
            _y = Tensor.RandInt(0, 100, [Batch]).To(device).DetachFromScope();
        }
    }

    /// <summary>One KD step: the teacher's logits without grad, the student's, the KD loss, backward, SGD.</summary>
    public void Kd()
    {
        Tensor t;
        using (Autograd.NoGrad())
        {
            t = _teacher.Forward(_x);
        }

        var s = _student.Forward(_x);
        _optimizer.ZeroGrad();
        _kd.ComputeLoss(new DistillationInputs(s, t, _y, _y, null, null, 1)).Total().Backward();
        _optimizer.Step();
    }

    /// <summary>
    /// One KD step with a bfloat16 teacher, as teacher.precision: bf16 trains: a bfloat16 copy of the teacher (made at the
    /// first call), the images cast to bfloat16 before it and its logits back to float32 for the loss.
    /// </summary>
    public void KdBf16()
    {
        if (_teacher16 is null)
        {
            var copy = ModelRegistry.Create("resnet32x4");
            using (DisposeScope.Enter())
            {
                copy.LoadStateDict(_teacher.StateDict());
            }

            copy.To(_x.Device);
            copy.To(DType.BFloat16);
            copy.Eval();
            copy.Freeze();
            _teacher16 = copy;
        }

        Tensor t;
        using (Autograd.NoGrad())
        {
            t = _teacher16.Forward(_x.To(DType.BFloat16)).To(DType.Float32);
        }

        var s = _student.Forward(_x);
        _optimizer.ZeroGrad();
        _kd.ComputeLoss(new DistillationInputs(s, t, _y, _y, null, null, 1)).Total().Backward();
        _optimizer.Step();
    }

    /// <summary>One plain cross-entropy step of the student.</summary>
    public void Ce()
    {
        var s = _student.Forward(_x);
        _optimizer.ZeroGrad();
        F.CrossEntropy(s, _y).Backward();
        _optimizer.Step();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _kd.Dispose();
        _x.Dispose();
        _y.Dispose();
        _optimizer.Dispose();
        _student.Dispose();
        _teacher16?.Dispose();
        _teacher.Dispose();
    }
}
