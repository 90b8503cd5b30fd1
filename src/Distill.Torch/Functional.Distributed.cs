using Distill.Torch.Distributed;
using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>Batch normalisation whose statistics span every rank of a process group.</summary>
public static partial class Functional
{
    /// <summary>
    /// Training-mode batch normalisation of [N, C, ...] input with the mean and variance of the batches of every
    /// rank in <paramref name="group"/> together (torch.nn.SyncBatchNorm in training). The running statistics move
    /// by <paramref name="momentum"/> towards the global mean and the global unbiased variance; in backward the
    /// per-channel sums of the output gradient and of its product with the centred input are all-reduced, so the
    /// input gradient is that of batch normalisation over the whole global batch. The weight and bias gradients
    /// are this rank's share (summed over ranks they give the global batch's).
    /// </summary>
    /// <exception cref="TorchException">A collective failed (timeout, a rank went away) or the input is unusable.</exception>
    public static Tensor SyncBatchNorm(Tensor input, ProcessGroup group, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null,
        Tensor? bias = null, double momentum = 0.1, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(group);
        return Tensor.Wrap(Native.dt_sync_batch_norm(group.Handle, input.Handle, OptionalHandle(weight), OptionalHandle(bias),
            OptionalHandle(runningMean), OptionalHandle(runningVar), momentum, eps, out var r), r);
    }
}
