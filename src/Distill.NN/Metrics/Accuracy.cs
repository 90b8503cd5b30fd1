using Distill.Torch;

namespace Distill.NN.Metrics;

/// <summary>Top-k accuracy of logits against labels.</summary>
public static class Accuracy
{
    /// <summary>How many rows have their label among the k largest logits.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, or k exceeds the class count.</exception>
    public static long TopKCorrect(Tensor logits, Tensor labels, int k = 1)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        var shape = logits.Shape;
        if (shape.Length != 2 || labels.Dim != 1 || labels.Size(0) != shape[0])
        {
            throw new ArgumentException($"top-k accuracy needs logits [N, C] and labels [N]; got {Tensor.FormatShape(shape)} and {Tensor.FormatShape(labels.Shape)}");
        }

        if (k < 1 || k > shape[1])
        {
            throw new ArgumentException($"k = {k} but there are {shape[1]} classes", nameof(k));
        }

        using var scope = DisposeScope.Enter();
        var (_, top) = logits.Detach().TopK(k, 1);
        return top.Eq(labels.Unsqueeze(1)).Any(1).To(DType.Int64).Sum().Item<long>();
    }

    /// <summary>Top-k accuracy as a fraction in [0, 1].</summary>
    public static double TopK(Tensor logits, Tensor labels, int k = 1) => (double)TopKCorrect(logits, labels, k) / Math.Max(1, labels.Size(0));
}
