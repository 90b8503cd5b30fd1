using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>2-d max pooling (torch.nn.MaxPool2d); stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var s = stride ?? kernelSize;
        return F.MaxPool2d(input, (kernelSize, kernelSize), (s, s), (padding, padding), (dilation, dilation), ceilMode);
    }
}
