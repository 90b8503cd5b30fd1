using Distill.Torch;

namespace Distill.NN.Optim;

/// <summary>Gradient clipping as torch.nn.utils does it, without a host sync.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their global L2 norm is at most
    /// <paramref name="maxNorm"/> (torch.nn.utils.clip_grad_norm_, norm_type 2): total = ‖(‖g₁‖, ‖g₂‖, …)‖;
    /// every g *= min(1, maxNorm / (total + 1e-6)). Gradients under the limit are multiplied by exactly 1.
    /// Parameters without a gradient are skipped.
    /// </summary>
    /// <returns>The total norm before clipping (a scalar tensor on the gradients' device; zero when no parameter has a gradient).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive.</exception>
    public static Tensor ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNorm);
        using var noGrad = Autograd.NoGrad();
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToArray();
        if (grads.Length == 0)
        {
            return Tensor.Zeros([]);
        }

        var norms = grads.Select(g => g.Norm(2)).ToArray();
        var total = Tensor.Stack(norms).Norm(2);

        // max_norm / (total + 1e-6) is reciprocal-then-multiply in PyTorch (Tensor.__rtruediv__).
        var coefficient = ((total + 1e-6).Reciprocal() * maxNorm).Clamp(max: 1.0);
        foreach (var g in grads)
        {
            g.MulInPlace(coefficient);
        }

        return total;
    }
}
