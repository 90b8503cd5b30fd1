namespace Distill.Torch;

/// <summary>Where a tensor lives: <see cref="Cpu"/>, <see cref="Cuda(int)"/> or <see cref="Meta"/>.</summary>
/// <param name="Type">The kind of device.</param>
/// <param name="Index">The device ordinal for CUDA; -1 for the CPU and meta.</param>
public readonly record struct Device(DeviceType Type, int Index)
{
    /// <summary>The host.</summary>
    public static Device Cpu { get; } = new(DeviceType.Cpu, -1);

    /// <summary>libtorch's meta device (no data; ops compute shapes only).</summary>
    public static Device Meta { get; } = new(DeviceType.Meta, -1);

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    /// <param name="index">The device ordinal, from 0.</param>
    public static Device Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new Device(DeviceType.Cuda, index);
    }

    /// <summary>Parses "cpu", "cuda", "cuda:N" or "meta", as PyTorch spells devices.</summary>
    /// <exception cref="FormatException">The text names no device.</exception>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "meta") return Meta;
        if (t == "cuda") return Cuda();
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out var index) && index >= 0)
        {
            return Cuda(index);
        }

        throw new FormatException($"'{text}' is not a device: expected cpu, cuda or cuda:N.");
    }

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        DeviceType.Cpu => "cpu",
        DeviceType.Meta => "meta",
        _ => $"cuda:{Index}",
    };
}
