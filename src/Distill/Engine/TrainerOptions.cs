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

    /// <summary>"sgd", "adam" or "adamw".</summary>
    public string Optimizer { get; init; } = "sgd";

    /// <summary>Nesterov momentum (sgd).</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam's moment decay rates (adam, adamw).</summary>
    public (double Beta1, double Beta2) Betas { get; init; } = (0.9, 0.999);

    /// <summary>Adam's denominator term (adam, adamw).</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>"bn" and/or "bias": parameters put in groups without weight decay (empty: one group, all decayed).</summary>
    public IReadOnlyList<string> NoWeightDecayOn { get; init; } = [];

    /// <summary>Learning-rate multiplier of the distiller's own parameters (1: they share the student's group).</summary>
    public double MethodLrMult { get; init; } = 1;

    /// <summary>
    /// "multistep" (x0.1 at <see cref="Milestones"/>), "cosine" (to <see cref="EtaMin"/> over the run), "poly" (to zero,
    /// <see cref="Power"/>), "onecycle" (peak <see cref="LearningRate"/>) or "constant".
    /// </summary>
    public string Schedule { get; init; } = "multistep";

    /// <summary>True: the schedule steps after every optimizer step; false: after every epoch.</summary>
    public bool StepPerIteration { get; init; }

    /// <summary>Optimizer steps per epoch (the training loader's batch count); needed when the schedule steps per iteration.</summary>
    public int IterationsPerEpoch { get; init; }

    /// <summary>Epochs after which the rate drops x0.1 (multistep; converted to iterations when stepping per iteration).</summary>
    public IReadOnlyList<int> Milestones { get; init; } = [150, 180, 210];

    /// <summary>Linear warm-up in epochs (0: none).</summary>
    public int WarmupEpochs { get; init; }

    /// <summary>Linear warm-up in iterations (per-iteration schedules; 0: none).</summary>
    public int WarmupIters { get; init; }

    /// <summary>The warm-up's first factor of the rate.</summary>
    public double WarmupStartFactor { get; init; } = 0.1;

    /// <summary>Exponent of the poly schedule.</summary>
    public double Power { get; init; } = 0.9;

    /// <summary>Final rate of the cosine schedule.</summary>
    public double EtaMin { get; init; }

    /// <summary>Largest global gradient L2 norm (0: no clipping).</summary>
    public double GradClip { get; init; }

    /// <summary>The device of the models, the distiller and the batches; the running sums are kept there too.</summary>
    public Torch.Device Device { get; init; } = Torch.Device.Cpu;
}
