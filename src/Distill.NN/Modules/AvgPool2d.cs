using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>2-d average pooling (torch.nn.AvgPool2d); stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var s = stride ?? kernelSize;
        return F.AvgPool2d(input, (kernelSize, kernelSize), (s, s), (padding, padding), ceilMode, countIncludePad);
    }
}
