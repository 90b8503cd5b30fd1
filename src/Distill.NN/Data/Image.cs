namespace Distill.NN.Data;

/// <summary>A float image in channel-first layout (C, H, W), values usually in [0, 1]: what transforms work on.</summary>
public sealed class Image
{
    /// <summary>Wraps existing data (not copied).</summary>
    /// <exception cref="ArgumentException">The data length is not C x H x W.</exception>
    public Image(int channels, int height, int width, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if ((long)channels * height * width != data.Length)
        {
            throw new ArgumentException($"an image of {channels}x{height}x{width} needs {(long)channels * height * width} values; got {data.Length}", nameof(data));
        }

        Channels = channels;
        Height = height;
        Width = width;
        Data = data;
    }

    /// <summary>Channels.</summary>
    public int Channels { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>The values, channel by channel, row by row.</summary>
    public float[] Data { get; }

    /// <summary>The value at channel c, row y, column x.</summary>
    public float this[int c, int y, int x] => Data[(((c * Height) + y) * Width) + x];

    /// <summary>Converts 8-bit pixels to [0, 1] floats (torchvision's ToTensor), from HWC (interleaved) or CHW order.</summary>
    public static Image FromBytes(ReadOnlySpan<byte> pixels, int channels, int height, int width, bool interleaved)
    {
        var data = new float[channels * height * width];
        var plane = height * width;
        for (var c = 0; c < channels; c++)
        {
            for (var i = 0; i < plane; i++)
            {
                var value = interleaved ? pixels[(i * channels) + c] : pixels[(c * plane) + i];
                data[(c * plane) + i] = value / 255f;
            }
        }

        return new Image(channels, height, width, data);
    }
}
