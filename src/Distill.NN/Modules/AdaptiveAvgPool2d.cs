using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>Average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d).</summary>
/// <param name="outputSize">Output height and width.</param>
public sealed class AdaptiveAvgPool2d((long H, long W) outputSize) : Module<Tensor, Tensor>
{
    /// <summary>Pools to a square output.</summary>
    public AdaptiveAvgPool2d(long outputSize)
        : this((outputSize, outputSize))
    {
    }

    /// <summary>The output height and width.</summary>
    public (long H, long W) OutputSize => outputSize;

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.AdaptiveAvgPool2d(input, outputSize);
}
