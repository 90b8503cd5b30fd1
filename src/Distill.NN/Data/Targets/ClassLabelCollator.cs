using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>Stacks class labels into Int64 [B] (PyTorch's default_collate of ints).</summary>
public sealed class ClassLabelCollator : ITargetCollator
{
    private ClassLabelCollator()
    {
    }

    /// <summary>The collator (it holds no state).</summary>
    public static ClassLabelCollator Instance { get; } = new();

    /// <inheritdoc />
    public IGatheredTargets Gather(IReadOnlyList<ITarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var labels = new long[targets.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = ((ClassLabel)targets[i]).Value;
        }

        return new Gathered(labels);
    }

    private sealed class Gathered(long[] labels) : IGatheredTargets
    {
        public IBatchTargets ToBatch(Func<Tensor, Tensor> toDevice) => new ClassLabelBatch(toDevice(Tensor.From(labels)));
    }
}
