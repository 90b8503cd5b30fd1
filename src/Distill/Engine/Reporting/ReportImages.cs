using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Torch;

namespace Distill.Engine.Reporting;

/// <summary>Images for report.html: upscaled by an integer factor (nearest, so pixels stay crisp) and embedded as PNG data URIs.</summary>
internal static class ReportImages
{
    /// <summary>An image in [0, 1] as a PNG data URI: grey for one channel, RGB for three, the first channel as grey otherwise.</summary>
    public static string Input(Image image, int scale)
    {
        var bytes = SceneExporter.ToBytes(image);
        var channels = image.Channels;
        if (channels is not (1 or 3))
        {
            bytes = [.. Enumerable.Range(0, image.Height * image.Width).Select(i => bytes[i * channels])];
            channels = 1;
        }

        return DataUri(bytes, image.Height, image.Width, channels, scale);
    }

    /// <summary>A mask in the palette's colours as a PNG data URI.</summary>
    public static string Mask(Mask mask, int scale) => DataUri(SegmentationPalette.Colorize(mask), mask.Height, mask.Width, 3, scale);

    /// <summary>Channel-interleaved 8-bit pixels, each repeated scale x scale times, as a PNG data URI.</summary>
    public static string DataUri(byte[] pixels, int height, int width, int channels, int scale)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var (h, w) = (height * scale, width * scale);
        var scaled = new byte[h * w * channels];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                Array.Copy(pixels, (((y / scale) * width) + (x / scale)) * channels, scaled, ((y * w) + x) * channels, channels);
            }
        }

        using var scope = DisposeScope.Enter();
        var png = ImageCodec.EncodePng(Tensor.From(scaled, h, w, channels));
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
