namespace Distill.Methods;

/// <summary>
/// The optimizer a method trains its own parameters with (<see cref="IHasOwnOptimizer"/>): SGD (momentum, Nesterov,
/// L2 decay), Adam (L2 decay) or AdamW (decoupled decay), as torch.optim does them. Structured KD's official
/// discriminator uses SGD lr 4e-4 momentum 0.9 on the recipe's poly schedule; CIRKD and TorchDistiller Adam lr 4e-4,
/// betas (0.9, 0.99).
/// </summary>
public sealed record MethodOptimizerSettings
{
    /// <summary>"sgd", "adam" or "adamw".</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>The base learning rate.</summary>
    public double LearningRate { get; init; } = 4e-4;

    /// <summary>SGD's momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD's Nesterov switch.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam's (β1, β2).</summary>
    public (double Beta1, double Beta2) Betas { get; init; } = (0.9, 0.999);

    /// <summary>Adam's ε.</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Weight decay: L2 (sgd, adam) or decoupled (adamw); null: the recipe's (the student's), as Structured KD's discriminator.</summary>
    public double? WeightDecay { get; init; } = 0;

    /// <summary>
    /// Whether the recipe's schedule (warm-up included, stepped per epoch or per iteration like the main one) scales this
    /// rate too, as Structured KD's discriminator follows the student's poly schedule; false keeps it constant.
    /// </summary>
    public bool FollowSchedule { get; init; } = true;
}
