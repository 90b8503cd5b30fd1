using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>ShuffleNet's channel shuffle: [N, C, H, W] -> [N, g, C/g, H, W] -> swap g and C/g -> [N, C, H, W].</summary>
/// <param name="groups">The number of groups.</param>
public sealed class ChannelShuffle(long groups) : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var s = input.Shape;
        return input.Reshape(s[0], groups, s[1] / groups, s[2], s[3]).Permute(0, 2, 1, 3, 4).Reshape(s[0], s[1], s[2], s[3]);
    }
}
