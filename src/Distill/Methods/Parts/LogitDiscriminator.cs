using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// A small discriminator on logit vectors [B, K] (an adversarial method's part, trained by the method's own
/// optimizer, <see cref="IHasOwnOptimizer"/>): Linear(K → hidden) → LeakyReLU(slope) → Linear(hidden → 1), PyTorch's
/// default init; one score per row, [B, 1]. Keys: hidden.weight, hidden.bias, score.weight, score.bias.
/// </summary>
public sealed class LogitDiscriminator : Module<Tensor, Tensor>
{
    private readonly Linear _hidden;
    private readonly Linear _score;

    /// <summary>Creates the discriminator for <paramref name="classes"/> logits.</summary>
    /// <param name="classes">K, the logits per row.</param>
    /// <param name="hidden">The hidden width.</param>
    /// <param name="negativeSlope">The LeakyReLU slope (SAGAN's discriminator uses 0.1).</param>
    public LogitDiscriminator(long classes, long hidden = 64, double negativeSlope = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        NegativeSlope = negativeSlope;
        _hidden = RegisterModule("hidden", new Linear(classes, hidden));
        _score = RegisterModule("score", new Linear(hidden, 1));
    }

    /// <summary>The LeakyReLU slope.</summary>
    public double NegativeSlope { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => _score.Forward(F.LeakyRelu(_hidden.Forward(input), NegativeSlope));
}
