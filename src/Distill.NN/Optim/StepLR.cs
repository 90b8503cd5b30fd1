namespace Distill.NN.Optim;

/// <summary>Multiplies the rate by gamma every <c>stepSize</c> epochs (torch.optim.lr_scheduler.StepLR).</summary>
public sealed class StepLR : LearningRateScheduler
{
    private readonly int _stepSize;
    private readonly double _gamma;

    /// <summary>Creates the scheduler and applies epoch 0.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1)
        : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        _stepSize = stepSize;
        _gamma = gamma;
        Start();
    }

    /// <inheritdoc />
    protected override double Rate(int group, double current) =>
        LastEpoch == 0 || LastEpoch % _stepSize != 0 ? current : current * _gamma;
}
