namespace Distill.NN.Optim;

/// <summary>Multiplies the rate by gamma at each milestone epoch (torch.optim.lr_scheduler.MultiStepLR; CIFAR recipes: 150, 180, 210).</summary>
public sealed class MultiStepLR : LearningRateScheduler
{
    private readonly int[] _milestones;
    private readonly double _gamma;

    /// <summary>Creates the scheduler and applies epoch 0.</summary>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1)
        : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = milestones.ToArray();
        _gamma = gamma;
        Start();
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current)
    {
        var hits = _milestones.Count(m => m == LastEpoch);
        return hits == 0 ? current : current * Math.Pow(_gamma, hits);
    }
}
