using Distill.Configs;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>Turns a requested device (train.device, --device) into a <see cref="Device"/> that can hold tensors here.</summary>
public static class RunDevice
{
    /// <summary>The device <paramref name="text"/> names, checked against what this machine's libtorch can use.</summary>
    /// <param name="text">cpu, cuda or cuda:N.</param>
    /// <param name="source">Where the text came from, named in the error (e.g. "train.device", "--device").</param>
    /// <exception cref="ConfigException">
    /// The text names no device, or names a CUDA device that libtorch cannot use here (no CUDA build, no GPU, or an
    /// index past the last device); one message names <paramref name="source"/>, why, and `distill info`.
    /// </exception>
    public static Device Resolve(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        Device device;
        try
        {
            device = Device.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{source}: {e.Message}", e);
        }

        if (TorchRuntime.Unavailable(device) is { } why)
        {
            throw new ConfigException($"{source} is {device}, but {why}; `distill info` lists the devices this libtorch can use (use cpu to run on the host)");
        }

        return device;
    }
}
