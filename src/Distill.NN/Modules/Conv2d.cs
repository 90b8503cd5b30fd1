using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>2-d convolution (torch.nn.Conv2d): weight [out, in/groups, kH, kW], optional bias [out]; PyTorch's default init.</summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer and initialises it as PyTorch does (same global seed, same weights).</summary>
    public Conv2d(long inChannels, long outChannels, (long H, long W) kernelSize, (long H, long W)? stride = null, (long H, long W)? padding = null,
        (long H, long W)? dilation = null, long groups = 1, bool bias = true)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException($"Conv2d: in_channels {inChannels} and out_channels {outChannels} must both divide by groups {groups}");
        }

        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? (1, 1);
        Padding = padding ?? (0, 0);
        Dilation = dilation ?? (1, 1);
        Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Empty([outChannels, inChannels / groups, kernelSize.H, kernelSize.W]))!;
        Bias = RegisterParameter("bias", bias ? Tensor.Empty([outChannels]) : null);
        Init.DefaultLinearLike(Weight, Bias);
    }

    /// <summary>Creates a layer with a square kernel and symmetric stride and padding.</summary>
    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), groups, bias)
    {
    }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }

    /// <summary>Output channels.</summary>
    public long OutChannels { get; }

    /// <summary>Kernel height and width.</summary>
    public (long H, long W) KernelSize { get; }

    /// <summary>Stride.</summary>
    public (long H, long W) Stride { get; }

    /// <summary>Zero padding on each side.</summary>
    public (long H, long W) Padding { get; }

    /// <summary>Dilation.</summary>
    public (long H, long W) Dilation { get; }

    /// <summary>Channel groups (in_channels for a depthwise convolution).</summary>
    public long Groups { get; }

    /// <summary>The weight parameter.</summary>
    public Tensor Weight { get; }

    /// <summary>The bias parameter, or null.</summary>
    public Tensor? Bias { get; private set; }

    /// <summary>
    /// Makes this convolution compute scale * conv(x) + shift per output channel (a batch norm folded in, see
    /// <see cref="BatchNormFolding"/>): the weight is scaled in place and the bias becomes bias * scale + shift (a bias
    /// is registered when there was none, requiring grad only if the weight does).
    /// </summary>
    internal void FoldAffine(Tensor scale, Tensor shift)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Autograd.NoGrad();
        Weight.MulInPlace(scale.To(Weight.DType).View(-1, 1, 1, 1));
        if (Bias is null)
        {
            var bias = shift.To(Weight.DType).Clone();
            Bias = RegisterParameter("bias", bias);
            Bias!.RequiresGrad = Weight.RequiresGrad;
        }
        else
        {
            Bias.CopyFrom((Bias.To(scale.DType) * scale) + shift);
        }
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    /// <inheritdoc />
    protected override string ExtraRepresentation() =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}" + (Padding != (0, 0) ? $", padding={Padding}" : string.Empty)
        + (Dilation != (1, 1) ? $", dilation={Dilation}" : string.Empty) + (Groups != 1 ? $", groups={Groups}" : string.Empty) + (Bias is null ? ", bias=False" : string.Empty);
}
