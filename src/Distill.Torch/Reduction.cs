namespace Distill.Torch;

/// <summary>How a loss reduces its per-element values (PyTorch's reduction argument).</summary>
public enum Reduction
{
    /// <summary>No reduction: one value per element.</summary>
    None = 0,

    /// <summary>The mean (for weighted cross-entropy: the weighted mean).</summary>
    Mean = 1,

    /// <summary>The sum.</summary>
    Sum = 2,

    /// <summary>The sum divided by the batch size; only for KL divergence, where it is the mathematically correct mean.</summary>
    BatchMean = 3,
}
