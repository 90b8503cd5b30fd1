using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>2-d max pooling (torch.nn.MaxPool2d); stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <summary>The square kernel's side.</summary>
    public long KernelSize => kernelSize;

    /// <summary>The stride (the kernel size when none was given).</summary>
    public long Stride => stride ?? kernelSize;

    /// <summary>Implicit padding on each side (by negative infinity).</summary>
    public long Padding => padding;

    /// <summary>Spacing between kernel elements.</summary>
    public long Dilation => dilation;

    /// <summary>Whether the output size rounds up.</summary>
    public bool CeilMode => ceilMode;

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var s = stride ?? kernelSize;
        return F.MaxPool2d(input, (kernelSize, kernelSize), (s, s), (padding, padding), (dilation, dilation), ceilMode);
    }
}
