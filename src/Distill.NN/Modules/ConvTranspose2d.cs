using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>2-d transposed convolution (torch.nn.ConvTranspose2d): weight [in, out/groups, kH, kW].</summary>
public sealed class ConvTranspose2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with PyTorch's default init (fans computed on the [in, out/groups, ...] weight, as PyTorch does).</summary>
    public ConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0,
        long groups = 1, bool bias = true, long dilation = 1)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException($"ConvTranspose2d: in_channels {inChannels} and out_channels {outChannels} must both divide by groups {groups}");
        }

        Stride = (stride, stride);
        Padding = (padding, padding);
        OutputPadding = (outputPadding, outputPadding);
        Dilation = (dilation, dilation);
        Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Empty([inChannels, outChannels / groups, kernelSize, kernelSize]))!;
        Bias = RegisterParameter("bias", bias ? Tensor.Empty([outChannels]) : null);
        Init.DefaultLinearLike(Weight, Bias);
    }

    /// <summary>Stride.</summary>
    public (long H, long W) Stride { get; }

    /// <summary>Padding removed from each side of the output.</summary>
    public (long H, long W) Padding { get; }

    /// <summary>Extra size added to one side of the output.</summary>
    public (long H, long W) OutputPadding { get; }

    /// <summary>Dilation.</summary>
    public (long H, long W) Dilation { get; }

    /// <summary>Channel groups.</summary>
    public long Groups { get; }

    /// <summary>The weight parameter.</summary>
    public Tensor Weight { get; }

    /// <summary>The bias parameter, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);
}
