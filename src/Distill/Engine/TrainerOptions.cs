namespace Distill.Engine;

/// <summary>The optimisation recipe of a run (defaults: the CIFAR recipe's SGD, with a cosine schedule for short runs).</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 240;

    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = 0.05;

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (all trainable parameters, distiller parts included).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>"multistep" (x0.1 at <see cref="Milestones"/>) or "cosine" (to zero over the run).</summary>
    public string Schedule { get; init; } = "multistep";

    /// <summary>Epochs after which the rate drops x0.1 (multistep).</summary>
    public IReadOnlyList<int> Milestones { get; init; } = [150, 180, 210];

    /// <summary>The device of the models, the distiller and the batches; the running sums are kept there too.</summary>
    public Torch.Device Device { get; init; } = Torch.Device.Cpu;
}
