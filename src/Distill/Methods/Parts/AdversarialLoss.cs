using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// The adversarial losses of Structured KD's holistic term (irfanICMLL/structure_knowledge_distillation,
/// <c>utils/criterion.py</c> CriterionAdv and CriterionAdvForG) on discriminator scores: the teacher's are "real",
/// the student's "fake". Unweighted (the method multiplies by its λ_d); WGAN-GP's gradient penalty (CriterionAdditionalGP) too.
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

    /// <summary>
    /// WGAN-GP's gradient penalty as Structured KD computes it (<c>utils/criterion.py</c> CriterionAdditionalGP):
    /// x̂ = α·real + (1 − α)·fake on detached inputs, α [B, 1, 1, 1] broadcast over C, H, W; the gradient of
    /// <paramref name="critic"/>(x̂) (summed over its outputs) with respect to x̂, recorded for a second backward
    /// (create_graph), flattened per sample; GP = mean_b (sqrt(Σ g² + <paramref name="sqrtEps"/>) − 1)². The official
    /// form has no ε (<paramref name="sqrtEps"/> = 0); a positive one keeps the square root's gradient finite when a
    /// sample's gradient vanishes. Unweighted.
    /// </summary>
    /// <param name="critic">The discriminator (its parameters get the penalty's gradient on the caller's backward).</param>
    /// <param name="real">The "real" batch (the teacher's maps) [B, ...].</param>
    /// <param name="fake">The "fake" batch (the student's maps), the shape of <paramref name="real"/>.</param>
    /// <param name="alpha">The interpolation weights [B, 1, ..., 1], U(0, 1) per sample.</param>
    /// <param name="sqrtEps">Added under the square root (0: the official form).</param>
    /// <exception cref="ArgumentException">The batches' shapes differ.</exception>
    public static Tensor GradientPenalty(Func<Tensor, Tensor> critic, Tensor real, Tensor fake, Tensor alpha, double sqrtEps = 0)
    {
        ArgumentNullException.ThrowIfNull(critic);
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(fake);
        ArgumentNullException.ThrowIfNull(alpha);
        if (!real.Shape.SequenceEqual(fake.Shape))
        {
            throw new ArgumentException($"the gradient penalty's real batch {Tensor.FormatShape(real.Shape)} and fake batch {Tensor.FormatShape(fake.Shape)} differ in shape");
        }

        Tensor interpolated;
        using (Autograd.NoGrad())
        {
            var a = alpha.ExpandAs(real);
            interpolated = (a * real) + ((1.0 - a) * fake);
        }

        interpolated.RequireGrad();
        var output = critic(interpolated);
        var grad = Autograd.Grad([output], [interpolated], [output.OnesLike()], retainGraph: true, createGraph: true)[0]!;
        var squares = grad.View(grad.Size(0), -1).Square().Sum(1);
        var norm = (sqrtEps > 0 ? squares + sqrtEps : squares).Sqrt();
        return (norm - 1.0).Square().Mean();
    }
}
