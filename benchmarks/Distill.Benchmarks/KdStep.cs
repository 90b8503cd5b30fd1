using Distill.Methods;
using Distill.Models;
using Distill.NN;
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
    private readonly ClassificationModel _folded;
    private readonly ClassificationModel _student;
    private readonly Sgd _optimizer;
    private readonly Tensor _x;
    private readonly Tensor _y;
    private readonly KnowledgeDistillation _kd = new();
    private readonly MemoryFormat _studentFormat;
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

        _folded = FoldedCopy(_teacher, _x);
        // The student as distill train runs a classification student on the CPU (student.channels_last): weights and
        // images channels-last; on a GPU as built.
        _studentFormat = device.Type == DeviceType.Cpu ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous;
        _student.To(_studentFormat);
    }

    /// <summary>
    /// The teacher as distill train runs it by default (teacher.fold_bn: true): a copy with each batch norm folded into the
    /// convolution before it.
    /// </summary>
    private static ClassificationModel FoldedCopy(ClassificationModel teacher, Tensor x)
    {
        var copy = ModelRegistry.Create("resnet32x4");
        using (DisposeScope.Enter())
        {
            copy.LoadStateDict(teacher.StateDict());
            copy.To(x.Device);
            copy.Eval();
            copy.Freeze();
            using var noGrad = Autograd.NoGrad();
            var one = x.Narrow(0, 0, 1);
            BatchNormFolding.Fold(copy, BatchNormFolding.FindPairs(copy, () => copy.Forward(one), new HashSet<string>()));
        }

        return copy;
    }

    /// <summary>
    /// One KD step as distill train runs it on the CPU by default: the folded teacher's logits on channels-last images
    /// (teacher.fold_bn, teacher.channels_last; the conversion is part of the step) without grad, the channels-last
    /// student's (student.channels_last), the KD loss, backward, SGD.
    /// </summary>
    public void Kd() => Kd(_folded, _x.Device.Type == DeviceType.Cpu ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous);

    /// <summary>One KD step with the teacher as loaded (teacher.fold_bn and teacher.channels_last false), as PyTorch eager runs it; the student as in <see cref="Kd()"/>.</summary>
    public void KdAsLoaded() => Kd(_teacher, MemoryFormat.Contiguous);

    private void Kd(ClassificationModel teacher, MemoryFormat format)
    {
        Tensor t;
        var input = format == MemoryFormat.Contiguous ? _x : _x.Contiguous(format);
        using (Autograd.NoGrad())
        {
            t = teacher.Forward(input);
        }

        var s = StudentForward();
        _optimizer.ZeroGrad();
        _kd.ComputeLoss(new DistillationInputs(s, t, _y, _y, null, null, 1)).Total().Backward();
        _optimizer.Step();
    }

    /// <summary>
    /// One KD step with a bfloat16 teacher, as teacher.precision: bf16 trains: a bfloat16 copy of the folded teacher (made at
    /// the first call), the images cast to bfloat16 before it and its logits back to float32 for the loss.
    /// </summary>
    public void KdBf16()
    {
        if (_teacher16 is null)
        {
            _teacher16 = FoldedCopy(_teacher, _x);
            _teacher16.To(DType.BFloat16);
        }

        Tensor t;
        using (Autograd.NoGrad())
        {
            t = _teacher16.Forward(_x.To(DType.BFloat16)).To(DType.Float32);
        }

        var s = StudentForward();
        _optimizer.ZeroGrad();
        _kd.ComputeLoss(new DistillationInputs(s, t, _y, _y, null, null, 1)).Total().Backward();
        _optimizer.Step();
    }

    private Tensor StudentForward() => _student.Forward(_studentFormat == MemoryFormat.Contiguous ? _x : _x.Contiguous(_studentFormat));

    /// <summary>One plain cross-entropy step of the student.</summary>
    public void Ce()
    {
        var s = StudentForward();
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
        _folded.Dispose();
        _teacher.Dispose();
    }
}
