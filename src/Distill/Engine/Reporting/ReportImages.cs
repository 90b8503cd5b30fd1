using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Torch;

namespace Distill.Engine.Reporting;

/// <summary>
/// Images for report.html: resized by an integer factor, up (scale) or down (shrink), taking the nearest pixel so class
/// boundaries stay crisp, and embedded as PNG data URIs.
/// </summary>
internal static class ReportImages
{
    /// <summary>An image in [0, 1] as a PNG data URI: grey for one channel, RGB for three, the first channel as grey otherwise.</summary>
    public static string Input(Image image, int scale, int shrink = 1)
    {
        var bytes = SceneExporter.ToBytes(image);
        var channels = image.Channels;
        if (channels is not (1 or 3))
        {
            bytes = [.. Enumerable.Range(0, image.Height * image.Width).Select(i => bytes[i * channels])];
            channels = 1;
        }

        return DataUri(bytes, image.Height, image.Width, channels, scale, shrink);
    }

    /// <summary>A mask in the palette's colours as a PNG data URI.</summary>
    public static string Mask(Mask mask, int scale, int shrink = 1) => DataUri(SegmentationPalette.Colorize(mask), mask.Height, mask.Width, 3, scale, shrink);

    /// <summary>The size of a side of <paramref name="n"/> pixels drawn at scale / shrink (at least 1).</summary>
    public static int Drawn(int n, int scale, int shrink) => Math.Max(1, n * scale / shrink);

    /// <summary>
    /// Channel-interleaved 8-bit pixels resized by scale / shrink (output pixel (y, x) takes source pixel
    /// (y · shrink / scale, x · shrink / scale): each repeated scale x scale times, or every shrink-th kept), as a PNG data URI.
    /// </summary>
    public static string DataUri(byte[] pixels, int height, int width, int channels, int scale, int shrink = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(shrink, 1);
        var (h, w) = (Drawn(height, scale, shrink), Drawn(width, scale, shrink));
        var scaled = new byte[h * w * channels];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var source = (((long)y * shrink / scale * width) + ((long)x * shrink / scale)) * channels;
                Array.Copy(pixels, source, scaled, ((long)((y * w) + x)) * channels, channels);
            }
        }

        using var scope = DisposeScope.Enter();
        var png = ImageCodec.EncodePng(Tensor.From(scaled, h, w, channels));
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
