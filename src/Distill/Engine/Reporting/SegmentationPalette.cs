using Distill.NN.Data;

namespace Distill.Engine.Reporting;

/// <summary>
/// The fixed colours masks are drawn with: the PASCAL VOC colour map (class 0 black, 1 dark red, 2 dark green, ...; the
/// bits of the class index spread over the high bits of R, G and B), so class c has the same colour in every report and
/// in VOC's own palette PNGs; the ignore label 255 is drawn white.
/// </summary>
public static class SegmentationPalette
{
    /// <summary>The colour of the ignore label (<see cref="Mask.Ignore"/>).</summary>
    public static readonly (byte R, byte G, byte B) IgnoreColor = (255, 255, 255);

    /// <summary>The colour of class <paramref name="label"/> (0-254), or white for the ignore label 255.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The label is outside 0-255.</exception>
    public static (byte R, byte G, byte B) ColorOf(int label)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(label, Mask.Ignore);
        if (label == Mask.Ignore)
        {
            return IgnoreColor;
        }

        int r = 0, g = 0, b = 0;
        for (int shift = 7, c = label; c > 0; shift--, c >>= 3)
        {
            r |= (c & 1) << shift;
            g |= ((c >> 1) & 1) << shift;
            b |= ((c >> 2) & 1) << shift;
        }

        return ((byte)r, (byte)g, (byte)b);
    }

    /// <summary>The colour of <paramref name="label"/> as CSS, e.g. "#800000" for class 1.</summary>
    public static string Css(int label)
    {
        var (r, g, b) = ColorOf(label);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    /// <summary>The mask drawn in the palette's colours: RGB bytes, channel-interleaved, row by row, H x W.</summary>
    public static byte[] Colorize(Mask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var table = new (byte R, byte G, byte B)[256];
        for (var c = 0; c < table.Length; c++)
        {
            table[c] = ColorOf(c);
        }

        var rgb = new byte[mask.Data.Length * 3];
        for (var i = 0; i < mask.Data.Length; i++)
        {
            var (r, g, b) = table[mask.Data[i]];
            rgb[3 * i] = r;
            rgb[(3 * i) + 1] = g;
            rgb[(3 * i) + 2] = b;
        }

        return rgb;
    }
}
