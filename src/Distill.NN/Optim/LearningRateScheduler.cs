namespace Distill.NN.Optim;

/// <summary>
/// Changes each group's learning rate as epochs (or iterations) pass, as torch.optim.lr_scheduler does:
/// the constructor records initial_lr and applies epoch 0; call <see cref="Step"/> after each epoch.
/// Subclasses use PyTorch's own (often recursive) formulas so the rates match it to the last bit.
/// </summary>
public abstract class LearningRateScheduler
{
    /// <summary>Binds the scheduler to an optimizer and applies epoch 0.</summary>
    protected LearningRateScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        foreach (var g in optimizer.Groups)
        {
            g.InitialLearningRate ??= g.LearningRate;
        }

        BaseLearningRates = optimizer.Groups.Select(g => g.InitialLearningRate!.Value).ToArray();
        LastEpoch = -1;
    }

    /// <summary>The scheduled optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Each group's initial learning rate.</summary>
    public IReadOnlyList<double> BaseLearningRates { get; }

    /// <summary>The epoch the current rates belong to (0 after construction).</summary>
    public int LastEpoch { get; protected set; }

    /// <summary>The current learning rate of each group.</summary>
    public IReadOnlyList<double> LearningRates => Optimizer.Groups.Select(g => g.LearningRate).ToArray();

    /// <summary>Advances one epoch (or iteration) and sets the new rates.</summary>
    public virtual void Step()
    {
        LastEpoch++;
        var groups = Optimizer.Groups;
        var rates = new double[groups.Count];
        for (var i = 0; i < groups.Count; i++)
        {
            rates[i] = Rate(i, groups[i].LearningRate);
        }

        for (var i = 0; i < groups.Count; i++)
        {
            groups[i].LearningRate = rates[i];
        }
    }

    /// <summary>Restores the position of a resumed run: replays the steps up to <paramref name="epoch"/> from the initial rates.</summary>
    public void FastForward(int epoch)
    {
        LastEpoch = -1;
        for (var i = 0; i < Optimizer.Groups.Count; i++)
        {
            Optimizer.Groups[i].LearningRate = BaseLearningRates[i];
        }

        for (var e = 0; e <= epoch; e++)
        {
            Step();
        }
    }

    /// <summary>Restores a saved position: the epoch and each group's rate, exactly as saved.</summary>
    /// <exception cref="ArgumentException">The rate count differs from the group count.</exception>
    public void Restore(int lastEpoch, IReadOnlyList<double> rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        if (rates.Count != Optimizer.Groups.Count)
        {
            throw new ArgumentException($"{rates.Count} saved rates for {Optimizer.Groups.Count} parameter groups", nameof(rates));
        }

        LastEpoch = lastEpoch;
        for (var i = 0; i < rates.Count; i++)
        {
            Optimizer.Groups[i].LearningRate = rates[i];
        }

        OnRestored();
    }

    /// <summary>Called after <see cref="Restore"/> set the position and rates: a scheduler made of others restores their positions here.</summary>
    protected virtual void OnRestored()
    {
    }

    /// <summary>The rate of group <paramref name="group"/> at <see cref="LastEpoch"/>, given its current rate.</summary>
    protected abstract double Rate(int group, double current);

    /// <summary>Subclasses call this last in their constructor: applies epoch 0, as PyTorch's constructor does.</summary>
    protected void Start() => Step();
}
