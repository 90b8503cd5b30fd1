using Distill.NN;

namespace Distill.Models;

/// <summary>Small builders the zoo's networks share.</summary>
internal static class Blocks
{
    /// <summary>A bias-free convolution.</summary>
    public static Conv2d Conv(long input, long output, long kernel, long stride = 1, long padding = 0, long groups = 1, long dilation = 1) =>
        new(input, output, kernel, stride, padding, dilation, groups, bias: false);

    /// <summary>
    /// The initialisation mdistiller's WRN, VGG and MobileNetV2 use: conv weights N(0, sqrt(2 / (k·k·out))),
    /// conv biases 0; linear biases 0 and, when <paramref name="linearStd"/> is given, linear weights N(0, std).
    /// </summary>
    public static void InitializeLikeMdistiller(Module model, double? linearStd)
    {
        foreach (var (_, m) in model.NamedModules())
        {
            switch (m)
            {
                case Conv2d conv:
                    Init.Normal(conv.Weight, 0, Math.Sqrt(2.0 / (conv.KernelSize.H * conv.KernelSize.W * conv.OutChannels)));
                    if (conv.Bias is not null)
                    {
                        Init.Zeros(conv.Bias);
                    }

                    break;
                case Linear linear:
                    if (linearStd is { } std)
                    {
                        Init.Normal(linear.Weight, 0, std);
                    }

                    Init.Zeros(linear.Bias!);
                    break;
            }
        }
    }

    /// <summary>conv -> BN -> ReLU as a Sequential (keys "0", "1").</summary>
    public static Sequential ConvBnRelu(long input, long output, long kernel, long stride = 1, long padding = 0, long groups = 1, bool relu6 = false) =>
        new(Conv(input, output, kernel, stride, padding, groups), new BatchNorm2d(output), relu6 ? new ReLU6() : new ReLU());
}
