using Distill.Torch;

namespace Distill.NN.Metrics;

/// <summary>
/// Counts of (true class, predicted class) pairs, accumulated over batches; gives overall and per-class
/// accuracy and, for segmentation, per-class IoU and mIoU (classes absent from both truth and prediction
/// are left out of the mean, as the usual evaluation scripts do). Labels equal to the ignore index are skipped.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <summary>Creates an empty matrix.</summary>
    public ConfusionMatrix(int classes, long ignoreIndex = 255)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        Classes = classes;
        IgnoreIndex = ignoreIndex;
        _counts = new long[classes * classes];
    }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>Labels with this value are not counted.</summary>
    public long IgnoreIndex { get; }

    /// <summary>Samples (or pixels) counted.</summary>
    public long Total => _counts.Sum();

    /// <summary>The count of samples of class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[(truth * Classes) + predicted];

    /// <summary>Adds predictions (class indices, any shape) against labels of the same shape.</summary>
    /// <exception cref="ArgumentException">Shapes differ, or a value is outside the classes.</exception>
    public void Update(Tensor predictions, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(labels);
        if (!predictions.Shape.SequenceEqual(labels.Shape))
        {
            throw new ArgumentException($"predictions {Tensor.FormatShape(predictions.Shape)} and labels {Tensor.FormatShape(labels.Shape)} differ in shape");
        }

        using var scope = DisposeScope.Enter();
        var p = predictions.To(DType.Int64).ToArray<long>();
        var t = labels.To(DType.Int64).ToArray<long>();
        for (var i = 0; i < p.Length; i++)
        {
            if (t[i] == IgnoreIndex)
            {
                continue;
            }

            if (t[i] < 0 || t[i] >= Classes || p[i] < 0 || p[i] >= Classes)
            {
                throw new ArgumentException($"element {i}: label {t[i]} or prediction {p[i]} is outside the {Classes} classes");
            }

            _counts[(t[i] * Classes) + p[i]]++;
        }
    }

    /// <summary>Correct / total.</summary>
    public double OverallAccuracy
    {
        get
        {
            long correct = 0;
            for (var c = 0; c < Classes; c++)
            {
                correct += this[c, c];
            }

            var total = Total;
            return total == 0 ? 0 : (double)correct / total;
        }
    }

    /// <summary>Per-class recall (correct / samples of that class); NaN for a class with no samples.</summary>
    public double[] PerClassAccuracy()
    {
        var result = new double[Classes];
        for (var c = 0; c < Classes; c++)
        {
            long row = 0;
            for (var p = 0; p < Classes; p++)
            {
                row += this[c, p];
            }

            result[c] = row == 0 ? double.NaN : (double)this[c, c] / row;
        }

        return result;
    }

    /// <summary>Per-class intersection over union TP / (TP + FP + FN); NaN for a class absent from truth and prediction.</summary>
    public double[] IntersectionOverUnion()
    {
        var result = new double[Classes];
        for (var c = 0; c < Classes; c++)
        {
            long row = 0, column = 0;
            for (var k = 0; k < Classes; k++)
            {
                row += this[c, k];
                column += this[k, c];
            }

            var union = row + column - this[c, c];
            result[c] = union == 0 ? double.NaN : (double)this[c, c] / union;
        }

        return result;
    }

    /// <summary>The mean IoU over classes present in truth or prediction.</summary>
    public double MeanIntersectionOverUnion()
    {
        var present = IntersectionOverUnion().Where(v => !double.IsNaN(v)).ToArray();
        return present.Length == 0 ? 0 : present.Average();
    }

    /// <summary>The counts, row-major by (true class, predicted class): [Classes * Classes].</summary>
    public long[] ToArray() => (long[])_counts.Clone();

    /// <summary>Adds counts given row-major by (true class, predicted class), e.g. another matrix's <see cref="ToArray"/>.</summary>
    /// <exception cref="ArgumentException">The counts are not Classes * Classes values.</exception>
    public void Add(ReadOnlySpan<long> counts)
    {
        if (counts.Length != _counts.Length)
        {
            throw new ArgumentException($"{counts.Length} counts for a {Classes}x{Classes} confusion matrix ({_counts.Length} expected)", nameof(counts));
        }

        for (var i = 0; i < counts.Length; i++)
        {
            _counts[i] += counts[i];
        }
    }

    /// <summary>Clears the counts.</summary>
    public void Reset() => Array.Clear(_counts);
}
