namespace Distill.NN.Optim;

/// <summary>rate = base rate * factor(epoch) (torch.optim.lr_scheduler.LambdaLR).</summary>
public sealed class LambdaLR : LearningRateScheduler
{
    private readonly Func<int, double> _factor;

    /// <summary>Creates the scheduler and applies epoch 0.</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> factor)
        : base(optimizer)
    {
        _factor = factor ?? throw new ArgumentNullException(nameof(factor));
        Start();
    }

    /// <summary>
    /// Linear warm-up over <paramref name="warmupEpochs"/> from <paramref name="startFactor"/> to 1, then a cosine to
    /// <paramref name="minFactor"/> at <paramref name="totalEpochs"/>: factor(e) = start + (1 - start) e / w for e &lt; w,
    /// else min + (1 - min)(1 + cos(pi (e - w) / (T - w))) / 2.
    /// </summary>
    public static LambdaLR WarmupCosine(Optimizer optimizer, int warmupEpochs, int totalEpochs, double startFactor = 0.0, double minFactor = 0.0)
    {
        if (warmupEpochs < 0 || totalEpochs <= warmupEpochs)
        {
            throw new ArgumentOutOfRangeException(nameof(totalEpochs), $"need 0 <= warm-up ({warmupEpochs}) < total ({totalEpochs})");
        }

        return new LambdaLR(optimizer, e => e < warmupEpochs
            ? startFactor + ((1 - startFactor) * e / warmupEpochs)
            : minFactor + ((1 - minFactor) * (1 + Math.Cos(Math.PI * Math.Min(e - warmupEpochs, totalEpochs - warmupEpochs) / (totalEpochs - warmupEpochs))) / 2));
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current) => BaseLearningRates[group] * _factor(LastEpoch);
}
