using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// A class index per pixel (H x W bytes) for semantic segmentation; <see cref="Ignore"/> marks pixels that count for no class.
/// It moves with its image: crops and padding fill with <see cref="Ignore"/> (the segmentation recipes pad labels with 255),
/// reflect padding mirrors it as it mirrors the image, and resizing takes the nearest pixel (PyTorch's interpolate mode
/// "nearest"), so no new class values appear. A batch of masks is Int64 [B, H, W].
/// </summary>
public sealed class Mask : ITarget
{
    /// <summary>The label of pixels that count for no class (ignore_index=255 in the segmentation recipes).</summary>
    public const byte Ignore = 255;

    /// <summary>Wraps existing data (not copied).</summary>
    /// <exception cref="ArgumentException">The data length is not height x width.</exception>
    public Mask(int height, int width, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if ((long)height * width != data.Length)
        {
            throw new ArgumentException($"a mask of {height}x{width} needs {(long)height * width} values; got {data.Length}", nameof(data));
        }

        Height = height;
        Width = width;
        Data = data;
    }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>The class indices, row by row.</summary>
    public byte[] Data { get; }

    /// <summary>The class at row y, column x.</summary>
    public byte this[int y, int x] => Data[(y * Width) + x];

    /// <inheritdoc />
    public string Kind => "mask";

    /// <inheritdoc />
    public ITargetCollator Collator => MaskCollator.Instance;

    /// <inheritdoc />
    public string? Misfit(int height, int width) => height == Height && width == Width ? null
        : $"its mask is {Height}x{Width} but its image is {height}x{width} (height x width); a mask labels its image pixel for pixel";

    /// <inheritdoc />
    public ITarget Crop(int top, int left, int height, int width) =>
        new Mask(height, width, ImageOps.CropPlanes(Data, 1, Height, Width, top, left, height, width, Ignore));

    /// <inheritdoc />
    public ITarget Pad(int padding, PaddingMode mode) =>
        new Mask(Height + (2 * padding), Width + (2 * padding), ImageOps.PadPlanes(Data, 1, Height, Width, padding, mode, Ignore));

    /// <inheritdoc />
    public ITarget FlipHorizontal() => new Mask(Height, Width, ImageOps.FlipPlanes(Data, 1, Height, Width));

    /// <inheritdoc />
    public ITarget Resize(int height, int width) =>
        height == Height && width == Width ? this : new Mask(height, width, ImageOps.ResizeNearestPlanes(Data, 1, Height, Width, height, width));
}
