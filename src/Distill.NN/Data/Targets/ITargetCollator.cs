namespace Distill.NN.Data;

/// <summary>
/// Stacks the targets of one batch, in two steps as the loader builds batches: <see cref="Gather"/> copies them into plain
/// arrays on a loader thread; the result makes the tensors on the training thread, inside its dispose scope.
/// </summary>
public interface ITargetCollator
{
    /// <summary>Gathers a batch's targets, all of this collator's kind and already checked against their images.</summary>
    IGatheredTargets Gather(IReadOnlyList<ITarget> targets);
}
