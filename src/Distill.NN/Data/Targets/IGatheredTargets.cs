using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>A batch's targets in plain arrays, gathered by an <see cref="ITargetCollator"/> on a loader thread.</summary>
public interface IGatheredTargets
{
    /// <summary>Makes the batch's target tensors (on the training thread), each moved by <paramref name="toDevice"/>.</summary>
    IBatchTargets ToBatch(Func<Tensor, Tensor> toDevice);
}
