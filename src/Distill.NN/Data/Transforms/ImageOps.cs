using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>Deterministic pixel operations shared by the transforms, in managed code (they run on loader threads).</summary>
public static class ImageOps
{
    /// <summary>Crops a window; parts outside the image are filled with <paramref name="fill"/>.</summary>
    public static Image Crop(Image image, int top, int left, int height, int width, float fill = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        var data = new float[image.Channels * height * width];
        for (var c = 0; c < image.Channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                var sy = top + y;
                for (var x = 0; x < width; x++)
                {
                    var sx = left + x;
                    var inside = sy >= 0 && sy < image.Height && sx >= 0 && sx < image.Width;
                    data[(((c * height) + y) * width) + x] = inside ? image[c, sy, sx] : fill;
                }
            }
        }

        return new Image(image.Channels, height, width, data);
    }

    /// <summary>Pads every side by <paramref name="padding"/> with a constant, or by mirroring without repeating the edge.</summary>
    /// <exception cref="ArgumentException">Reflect padding as large as the image (PyTorch refuses it too).</exception>
    public static Image Pad(Image image, int padding, PaddingMode mode, float fill = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (mode == PaddingMode.Constant)
        {
            return Crop(image, -padding, -padding, image.Height + (2 * padding), image.Width + (2 * padding), fill);
        }

        if (mode != PaddingMode.Reflect)
        {
            throw new ArgumentException($"padding mode {mode} is not supported by transforms; use Constant or Reflect", nameof(mode));
        }

        if (padding >= image.Height || padding >= image.Width)
        {
            throw new ArgumentException($"reflect padding {padding} must be smaller than the image ({image.Height}x{image.Width})", nameof(padding));
        }

        var h = image.Height + (2 * padding);
        var w = image.Width + (2 * padding);
        var data = new float[image.Channels * h * w];
        for (var c = 0; c < image.Channels; c++)
        {
            for (var y = 0; y < h; y++)
            {
                var sy = Reflect(y - padding, image.Height);
                for (var x = 0; x < w; x++)
                {
                    data[(((c * h) + y) * w) + x] = image[c, sy, Reflect(x - padding, image.Width)];
                }
            }
        }

        return new Image(image.Channels, h, w, data);
    }

    /// <summary>Mirrors left to right.</summary>
    public static Image FlipHorizontal(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var data = new float[image.Data.Length];
        for (var c = 0; c < image.Channels; c++)
        {
            for (var y = 0; y < image.Height; y++)
            {
                var row = ((c * image.Height) + y) * image.Width;
                for (var x = 0; x < image.Width; x++)
                {
                    data[row + x] = image.Data[row + image.Width - 1 - x];
                }
            }
        }

        return new Image(image.Channels, image.Height, image.Width, data);
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
}
