using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// Deterministic pixel operations shared by the transforms, in managed code (they run on loader threads). The geometric ones
/// work on planes of any element type, so an image (float) and its mask (byte) move by the same code.
/// </summary>
public static class ImageOps
{
    /// <summary>Crops a window; parts outside the image are filled with <paramref name="fill"/>.</summary>
    public static Image Crop(Image image, int top, int left, int height, int width, float fill = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new Image(image.Channels, height, width, CropPlanes(image.Data, image.Channels, image.Height, image.Width, top, left, height, width, fill));
    }

    /// <summary>Pads every side by <paramref name="padding"/> with a constant, or by mirroring without repeating the edge.</summary>
    /// <exception cref="ArgumentException">Reflect padding as large as the image (PyTorch refuses it too).</exception>
    public static Image Pad(Image image, int padding, PaddingMode mode, float fill = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new Image(image.Channels, image.Height + (2 * padding), image.Width + (2 * padding),
            PadPlanes(image.Data, image.Channels, image.Height, image.Width, padding, mode, fill));
    }

    /// <summary>Mirrors left to right.</summary>
    public static Image FlipHorizontal(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new Image(image.Channels, image.Height, image.Width, FlipPlanes(image.Data, image.Channels, image.Height, image.Width));
    }

    /// <summary>
    /// Bilinear resize without antialiasing and with align_corners=False, computed as PyTorch's CPU
    /// upsample_bilinear2d does (source = (dst + 0.5) * in/out - 0.5, clamped at 0; float arithmetic).
    /// </summary>
    public static Image ResizeBilinear(Image image, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var (y0, y1, ly0, ly1) = Weights(image.Height, height);
        var (x0, x1, lx0, lx1) = Weights(image.Width, width);
        var data = new float[image.Channels * height * width];
        for (var c = 0; c < image.Channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var v00 = image[c, y0[y], x0[x]];
                    var v01 = image[c, y0[y], x1[x]];
                    var v10 = image[c, y1[y], x0[x]];
                    var v11 = image[c, y1[y], x1[x]];
                    data[(((c * height) + y) * width) + x] = (ly0[y] * ((lx0[x] * v00) + (lx1[x] * v01))) + (ly1[y] * ((lx0[x] * v10) + (lx1[x] * v11)));
                }
            }
        }

        return new Image(image.Channels, height, width, data);
    }

    /// <summary>
    /// Nearest-neighbour resize as PyTorch's interpolate(mode="nearest") picks pixels (source = floor(dst * in/out) in float,
    /// clamped to the last pixel): labels stay labels.
    /// </summary>
    internal static T[] ResizeNearestPlanes<T>(T[] data, int channels, int height, int width, int outHeight, int outWidth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outWidth, 1);
        var rows = NearestSources(height, outHeight);
        var columns = NearestSources(width, outWidth);
        var result = new T[channels * outHeight * outWidth];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < outHeight; y++)
            {
                var source = ((c * height) + rows[y]) * width;
                var target = ((c * outHeight) + y) * outWidth;
                for (var x = 0; x < outWidth; x++)
                {
                    result[target + x] = data[source + columns[x]];
                }
            }
        }

        return result;
    }

    /// <summary>A window of planes (C x H x W, row-major); parts outside are <paramref name="fill"/>.</summary>
    internal static T[] CropPlanes<T>(T[] data, int channels, int height, int width, int top, int left, int outHeight, int outWidth, T fill)
    {
        var result = new T[channels * outHeight * outWidth];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < outHeight; y++)
            {
                var sy = top + y;
                for (var x = 0; x < outWidth; x++)
                {
                    var sx = left + x;
                    var inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
                    result[(((c * outHeight) + y) * outWidth) + x] = inside ? data[(((c * height) + sy) * width) + sx] : fill;
                }
            }
        }

        return result;
    }

    /// <summary>Planes padded on every side, with <paramref name="fill"/> or by mirroring without repeating the edge.</summary>
    internal static T[] PadPlanes<T>(T[] data, int channels, int height, int width, int padding, PaddingMode mode, T fill)
    {
        if (mode == PaddingMode.Constant)
        {
            return CropPlanes(data, channels, height, width, -padding, -padding, height + (2 * padding), width + (2 * padding), fill);
        }

        if (mode != PaddingMode.Reflect)
        {
            throw new ArgumentException($"padding mode {mode} is not supported by transforms; use Constant or Reflect", nameof(mode));
        }

        if (padding >= height || padding >= width)
        {
            throw new ArgumentException($"reflect padding {padding} must be smaller than the image ({height}x{width})", nameof(padding));
        }

        var h = height + (2 * padding);
        var w = width + (2 * padding);
        var result = new T[channels * h * w];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < h; y++)
            {
                var row = ((c * height) + Reflect(y - padding, height)) * width;
                for (var x = 0; x < w; x++)
                {
                    result[(((c * h) + y) * w) + x] = data[row + Reflect(x - padding, width)];
                }
            }
        }

        return result;
    }

    /// <summary>Planes mirrored left to right.</summary>
    internal static T[] FlipPlanes<T>(T[] data, int channels, int height, int width)
    {
        var result = new T[data.Length];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                var row = ((c * height) + y) * width;
                for (var x = 0; x < width; x++)
                {
                    result[row + x] = data[row + width - 1 - x];
                }
            }
        }

        return result;
    }

    private static int Reflect(int i, int size)
    {
        if (i < 0)
        {
            return -i;
        }

        return i >= size ? (2 * size) - 2 - i : i;
    }

    private static (int[] I0, int[] I1, float[] L0, float[] L1) Weights(int input, int output)
    {
        var scale = (float)input / output;
        var i0 = new int[output];
        var i1 = new int[output];
        var l0 = new float[output];
        var l1 = new float[output];
        for (var o = 0; o < output; o++)
        {
            var source = Math.Max((scale * (o + 0.5f)) - 0.5f, 0f);
            var index = (int)source;
            i0[o] = index;
            i1[o] = index + (index < input - 1 ? 1 : 0);
            l1[o] = source - index;
            l0[o] = 1f - l1[o];
        }

        return (i0, i1, l0, l1);
    }

    private static int[] NearestSources(int input, int output)
    {
        var scale = (float)input / output;
        var sources = new int[output];
        for (var o = 0; o < output; o++)
        {
            sources[o] = Math.Min((int)MathF.Floor(o * scale), input - 1);
        }

        return sources;
    }
}
