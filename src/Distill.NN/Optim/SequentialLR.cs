namespace Distill.NN.Optim;

/// <summary>
/// Runs schedulers one after another (torch.optim.lr_scheduler.SequentialLR), e.g. a <see cref="LinearLR"/> warm-up
/// chained into a <see cref="PolynomialLR"/>: scheduler i takes over at step milestones[i-1], restarting from its
/// own epoch 0 on the initial rates (PyTorch's step(0), whose closed forms at epoch 0 give the initial rates, or
/// the start factor of a linear warm-up); before that it is stepped as usual.
/// </summary>
public sealed class SequentialLR : LearningRateScheduler
{
    private readonly LearningRateScheduler[] _schedulers;
    private readonly int[] _milestones;

    /// <summary>Chains <paramref name="schedulers"/> (built on <paramref name="optimizer"/>) at <paramref name="milestones"/> and applies the first one's epoch 0.</summary>
    /// <exception cref="ArgumentException">A scheduler of another optimizer, or not one milestone fewer than schedulers, or milestones not increasing.</exception>
    public SequentialLR(Optimizer optimizer, IReadOnlyList<LearningRateScheduler> schedulers, IReadOnlyList<int> milestones)
        : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(milestones);
        if (schedulers.Count == 0 || schedulers.Any(s => !ReferenceEquals(s.Optimizer, optimizer)))
        {
            throw new ArgumentException("SequentialLR needs at least one scheduler, all of the same optimizer", nameof(schedulers));
        }

        if (milestones.Count != schedulers.Count - 1 || milestones.Zip(milestones.Skip(1)).Any(m => m.Second <= m.First) || milestones.Any(m => m < 1))
        {
            throw new ArgumentException($"SequentialLR needs {schedulers.Count - 1} increasing positive milestones for {schedulers.Count} schedulers", nameof(milestones));
        }

        _schedulers = [.. schedulers];
        _milestones = [.. milestones];
        Start();
    }

    /// <summary>The chained schedulers, in order.</summary>
    public IReadOnlyList<LearningRateScheduler> Schedulers => _schedulers;

    /// <inheritdoc />
    public override void Step()
    {
        LastEpoch++;
        var (index, startsNow) = Active(LastEpoch);
        if (startsNow)
        {
            // Epoch 0 of the next scheduler: back to the initial rates, then its own epoch-0 rule.
            _schedulers[index].FastForward(0);
        }
        else
        {
            _schedulers[index].Step();
        }
    }

    /// <inheritdoc />
    protected override void OnRestored()
    {
        var (index, _) = Active(LastEpoch);
        var start = index == 0 ? 0 : _milestones[index - 1];
        _schedulers[index].Restore(LastEpoch - start, LearningRates);
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current) => throw new InvalidOperationException("SequentialLR steps its schedulers");

    /// <summary>The scheduler in charge at <paramref name="epoch"/>, and whether it starts there (epoch 0 or its milestone).</summary>
    private (int Index, bool StartsNow) Active(int epoch)
    {
        var index = _milestones.Count(m => m <= epoch);
        return (index, epoch == 0 || (index > 0 && _milestones[index - 1] == epoch));
    }
}
