using Distill.NN;

namespace Distill.Models;

/// <summary>Small builders the zoo's networks share.</summary>
internal static class Blocks
{
    /// <summary>A bias-free convolution.</summary>
    public static Conv2d Conv(long input, long output, long kernel, long stride = 1, long padding = 0, long groups = 1) =>
        new(input, output, kernel, stride, padding, groups: groups, bias: false);

    /// <summary>conv -> BN -> ReLU as a Sequential (keys "0", "1").</summary>
    public static Sequential ConvBnRelu(long input, long output, long kernel, long stride = 1, long padding = 0, long groups = 1, bool relu6 = false) =>
        new(Conv(input, output, kernel, stride, padding, groups), new BatchNorm2d(output), relu6 ? new ReLU6() : new ReLU());
}
