using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// The adversarial losses of Structured KD's holistic term (irfanICMLL/structure_knowledge_distillation,
/// <c>utils/criterion.py</c> CriterionAdv and CriterionAdvForG) on discriminator scores: the teacher's are "real",
/// the student's "fake". Unweighted (the method multiplies by its λ_d).
/// </summary>
public static class AdversarialLoss
{
    /// <summary>The discriminator's hinge loss: mean ReLU(1 − D(T)) + mean ReLU(1 + D(S)).</summary>
    public static Tensor HingeDiscriminator(Tensor real, Tensor fake)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(fake);
        return F.Relu(1.0 - real).Mean() + F.Relu(1.0 + fake).Mean();
    }

    /// <summary>The discriminator's Wasserstein loss (without the gradient penalty): −mean D(T) + mean D(S).</summary>
    public static Tensor WassersteinDiscriminator(Tensor real, Tensor fake)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(fake);
        return -real.Mean() + fake.Mean();
    }

    /// <summary>The student's (generator's) term, the same for hinge and WGAN-GP: −mean D(S).</summary>
    public static Tensor Generator(Tensor fake)
    {
        ArgumentNullException.ThrowIfNull(fake);
        return -fake.Mean();
    }
}
