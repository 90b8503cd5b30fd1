using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>Normalises channel groups (torch.nn.GroupNorm): weight 1, bias 0.</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">channels is not a multiple of groups.</exception>
    public GroupNorm(long numGroups, long numChannels, double eps = 1e-5, bool affine = true)
    {
        if (numChannels % numGroups != 0)
        {
            throw new ArgumentException($"GroupNorm: {numChannels} channels do not divide into {numGroups} groups");
        }

        NumGroups = numGroups;
        Eps = eps;
        Weight = RegisterParameter("weight", affine ? Tensor.Ones([numChannels]) : null);
        Bias = RegisterParameter("bias", affine ? Tensor.Zeros([numChannels]) : null);
    }

    /// <summary>Groups.</summary>
    public long NumGroups { get; }

    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>The scale, or null.</summary>
    public Tensor? Weight { get; }

    /// <summary>The shift, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.GroupNorm(input, NumGroups, Weight, Bias, Eps);
}
