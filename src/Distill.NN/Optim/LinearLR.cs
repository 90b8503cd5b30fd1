namespace Distill.NN.Optim;

/// <summary>Linear warm-up (or decay) of the rate's factor from start to end over <c>totalIters</c> steps (torch.optim.lr_scheduler.LinearLR).</summary>
public sealed class LinearLR : LearningRateScheduler
{
    private readonly double _start;
    private readonly double _end;
    private readonly int _total;

    /// <summary>Creates the scheduler and applies epoch 0.</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5)
        : base(optimizer)
    {
        if (startFactor is <= 0 or > 1 || endFactor is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(startFactor), "start factor must be in (0, 1] and end factor in [0, 1]");
        }

        _start = startFactor;
        _end = endFactor;
        _total = totalIters;
        Start();
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current)
    {
        if (LastEpoch == 0)
        {
            return current * _start;
        }

        if (LastEpoch > _total)
        {
            return current;
        }

        return current * (1.0 + ((_end - _start) / ((_total * _start) + ((LastEpoch - 1) * (_end - _start)))));
    }
}
