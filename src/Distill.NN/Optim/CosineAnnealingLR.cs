namespace Distill.NN.Optim;

/// <summary>
/// Cosine annealing from the base rate to <c>etaMin</c> over <c>tMax</c> epochs
/// (torch.optim.lr_scheduler.CosineAnnealingLR, with its recursive update).
/// </summary>
public sealed class CosineAnnealingLR : LearningRateScheduler
{
    private readonly int _tMax;
    private readonly double _etaMin;

    /// <summary>Creates the scheduler and applies epoch 0.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0)
        : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tMax, 1);
        _tMax = tMax;
        _etaMin = etaMin;
        Start();
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current)
    {
        var e = LastEpoch;
        if (e == 0)
        {
            return current;
        }

        if ((e - 1 - _tMax) % (2 * _tMax) == 0)
        {
            return current + ((BaseLearningRates[group] - _etaMin) * (1 - Math.Cos(Math.PI / _tMax)) / 2);
        }

        return ((1 + Math.Cos(Math.PI * e / _tMax)) / (1 + Math.Cos(Math.PI * (e - 1) / _tMax)) * (current - _etaMin)) + _etaMin;
    }
}
