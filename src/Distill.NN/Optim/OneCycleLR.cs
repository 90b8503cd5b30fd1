namespace Distill.NN.Optim;

/// <summary>
/// The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR, two phases, cosine annealing): from max/div
/// up to max over pct_start of the steps, then down to max/(div·final_div). Step it every iteration.
/// Momentum is not cycled (PyTorch's cycle_momentum=False).
/// </summary>
public sealed class OneCycleLR : LearningRateScheduler
{
    private readonly double[] _max;
    private readonly int _totalSteps;
    private readonly double _pctStart;
    private readonly double _div;
    private readonly double _finalDiv;

    /// <summary>Creates the scheduler; it sets each group's rate to max/div at step 0.</summary>
    public OneCycleLR(Optimizer optimizer, double maxLearningRate, int totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
        : this(optimizer, Enumerable.Repeat(maxLearningRate, optimizer?.Groups.Count ?? 0).ToArray(), totalSteps, pctStart, divFactor, finalDivFactor)
    {
    }

    /// <summary>Creates the scheduler with one peak rate per parameter group (PyTorch's max_lr as a list).</summary>
    /// <exception cref="ArgumentException">The peak count differs from the group count.</exception>
    public OneCycleLR(Optimizer optimizer, IReadOnlyList<double> maxLearningRates, int totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
        : base(SetInitial(optimizer, maxLearningRates, divFactor))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        _max = [.. maxLearningRates];
        _totalSteps = totalSteps;
        _pctStart = pctStart;
        _div = divFactor;
        _finalDiv = finalDivFactor;
        Start();
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current)
    {
        var step = LastEpoch;
        if (step > _totalSteps)
        {
            throw new InvalidOperationException($"OneCycleLR stepped {step} times, more than its {_totalSteps} total steps");
        }

        var initial = _max[group] / _div;
        var min = initial / _finalDiv;
        var phaseEnd = (_pctStart * _totalSteps) - 1;
        var lastEnd = (double)_totalSteps - 1;
        if (step <= phaseEnd)
        {
            return AnnealCos(initial, _max[group], step / phaseEnd);
        }

        return AnnealCos(_max[group], min, (step - phaseEnd) / (lastEnd - phaseEnd));
    }

    private static double AnnealCos(double start, double end, double pct) => end + ((start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1));

    private static Optimizer SetInitial(Optimizer optimizer, IReadOnlyList<double> maxLearningRates, double divFactor)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(maxLearningRates);
        if (maxLearningRates.Count != optimizer.Groups.Count)
        {
            throw new ArgumentException($"{maxLearningRates.Count} peak rates for {optimizer.Groups.Count} parameter groups", nameof(maxLearningRates));
        }

        for (var i = 0; i < maxLearningRates.Count; i++)
        {
            var initial = maxLearningRates[i] / divFactor;
            optimizer.Groups[i].LearningRate = initial;
            optimizer.Groups[i].InitialLearningRate = initial;
        }

        return optimizer;
    }
}
