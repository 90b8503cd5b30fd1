namespace Distill.NN.Optim;

/// <summary>Polynomial decay to zero over <c>totalIters</c> steps (torch.optim.lr_scheduler.PolynomialLR; segmentation's "poly" with power 0.9).</summary>
public sealed class PolynomialLR : LearningRateScheduler
{
    private readonly int _total;
    private readonly double _power;

    /// <summary>Creates the scheduler and applies epoch 0.</summary>
    public PolynomialLR(Optimizer optimizer, int totalIters = 5, double power = 1.0)
        : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalIters, 1);
        _total = totalIters;
        _power = power;
        Start();
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current)
    {
        if (LastEpoch == 0 || LastEpoch > _total)
        {
            return current;
        }

        var factor = Math.Pow((1.0 - ((double)LastEpoch / _total)) / (1.0 - ((double)(LastEpoch - 1) / _total)), _power);
        return current * factor;
    }
}
