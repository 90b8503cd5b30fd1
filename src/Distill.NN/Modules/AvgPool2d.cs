using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>2-d average pooling (torch.nn.AvgPool2d); stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module<Tensor, Tensor>
{
    /// <summary>The square kernel's side.</summary>
    public long KernelSize => kernelSize;

    /// <summary>The stride (the kernel size when none was given).</summary>
    public long Stride => stride ?? kernelSize;

    /// <summary>Implicit zero padding on each side.</summary>
    public long Padding => padding;

    /// <summary>Whether the output size rounds up.</summary>
    public bool CeilMode => ceilMode;

    /// <summary>Whether the padded zeros count in each window's divisor.</summary>
    public bool CountIncludePad => countIncludePad;

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var s = stride ?? kernelSize;
        return F.AvgPool2d(input, (kernelSize, kernelSize), (s, s), (padding, padding), ceilMode, countIncludePad);
    }
}
