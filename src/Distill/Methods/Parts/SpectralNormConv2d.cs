using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// A convolution whose weight is divided by its largest singular value, estimated by one power iteration per forward,
/// as the spectral norm of Structured KD's discriminator (irfanICMLL/structure_knowledge_distillation,
/// <c>networks/spectral.py</c>; their own module, not torch.nn.utils.spectral_norm). The raw weight is the trainable
/// "weight_bar" [out, in, k, k]; "weight_u" [out] and "weight_v" [in·k·k] are buffers (saved, never trained), drawn
/// N(0, 1) and L2-normalised at creation. Each forward, in any mode, first advances them on the detached weight W̄
/// (rows = output channels): v ← normalize(W̄ᵀu), u ← normalize(W̄v), normalize(x) = x / (‖x‖ + 1e-12), by swapping
/// their storage as the official code's <c>.data =</c> assignments do; then σ = u · (W̄v), whose gradient reaches W̄
/// only, and the convolution runs with W̄ / σ and the bias. Because the swap keeps each buffer's identity, a backward
/// through an earlier forward's σ reads the newest u and v, exactly as it does in PyTorch. Init: PyTorch's Conv2d default
/// for W̄ and the bias, then u, then v.
/// </summary>
public sealed class SpectralNormConv2d : Module<Tensor, Tensor>
{
    /// <summary>The ε added to a vector's norm before dividing by it.</summary>
    public const double NormEps = 1e-12;

    /// <summary>Creates the layer (square kernel, symmetric stride and zero padding, with bias).</summary>
    public SpectralNormConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        Stride = stride;
        Padding = padding;
        WeightBar = RegisterParameter("weight_bar", Tensor.Empty([outChannels, inChannels, kernelSize, kernelSize]))!;
        Bias = RegisterParameter("bias", Tensor.Empty([outChannels]))!;
        Init.KaimingUniform(WeightBar, a: Math.Sqrt(5));
        var bound = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        Init.Uniform(Bias, -bound, bound);
        using var scope = DisposeScope.Enter();
        using var noGrad = Autograd.NoGrad();
        var u = Tensor.Randn([outChannels]);
        var v = Tensor.Randn([inChannels * kernelSize * kernelSize]);
        U = RegisterBuffer("weight_u", L2Normalize(u).DetachFromScope())!;
        V = RegisterBuffer("weight_v", L2Normalize(v).DetachFromScope())!;
    }

    /// <summary>The raw (unnormalised) weight W̄.</summary>
    public Tensor WeightBar { get; }

    /// <summary>The bias (not normalised).</summary>
    public Tensor Bias { get; }

    /// <summary>The left singular vector estimate u [out].</summary>
    public Tensor U { get; }

    /// <summary>The right singular vector estimate v [in·k·k].</summary>
    public Tensor V { get; }

    /// <summary>The stride.</summary>
    public long Stride { get; }

    /// <summary>The zero padding on each side.</summary>
    public long Padding { get; }

    /// <summary>x / (‖x‖₂ + 1e-12) of a vector.</summary>
    public static Tensor L2Normalize(Tensor vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return vector / (vector.Norm() + NormEps);
    }

    /// <summary>
    /// One power iteration on the detached weight (u and v take new storage, as the official <c>.data =</c>), then
    /// σ = u · (W̄v) with its gradient reaching W̄.
    /// </summary>
    public Tensor Sigma()
    {
        var height = WeightBar.Size(0);
        using (Autograd.NoGrad())
        {
            var w = WeightBar.Detach().Reshape(height, -1);
            var v = L2Normalize(w.T().Matmul(U));
            var u = L2Normalize(w.Matmul(v));
            V.SetData(v);
            U.SetData(u);
        }

        return (U * WeightBar.View(height, -1).Matmul(V)).Sum();
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) =>
        F.Conv2d(input, WeightBar / Sigma(), Bias, (Stride, Stride), (Padding, Padding));

    /// <inheritdoc />
    protected override string ExtraRepresentation() =>
        $"{WeightBar.Size(1)}, {WeightBar.Size(0)}, kernel_size={WeightBar.Size(2)}, stride={Stride}, padding={Padding}, spectral_norm";
}
