namespace Distill.NN.Data.Segmentation;

/// <summary>
/// The 256-colour palette of PASCAL VOC's SegmentationClass PNGs (index 0 black, 255 the cream border colour), and VOC's
/// 21 class names. Colour i spreads the bits of i over R, G and B from the most significant bit down: bit 3k of i goes
/// to red bit 7 - k, bit 3k + 1 to green, bit 3k + 2 to blue.
/// </summary>
public static class VocPalette
{
    private static readonly byte[] Palette = Build();

    /// <summary>VOC's classes: background, then the 20 object classes.</summary>
    public static readonly IReadOnlyList<string> ClassNames =
    [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    /// <summary>The palette as 768 bytes: R, G, B of index 0, then of index 1, ... (a fresh copy).</summary>
    public static byte[] Colors => (byte[])Palette.Clone();

    /// <summary>The colour of index <paramref name="index"/>.</summary>
    public static (byte R, byte G, byte B) Color(byte index) => (Palette[3 * index], Palette[(3 * index) + 1], Palette[(3 * index) + 2]);

    private static byte[] Build()
    {
        var palette = new byte[768];
        for (var i = 0; i < 256; i++)
        {
            int r = 0, g = 0, b = 0, c = i;
            for (var k = 0; k < 8; k++)
            {
                r |= (c & 1) << (7 - k);
                g |= ((c >> 1) & 1) << (7 - k);
                b |= ((c >> 2) & 1) << (7 - k);
                c >>= 3;
            }

            palette[3 * i] = (byte)r;
            palette[(3 * i) + 1] = (byte)g;
            palette[(3 * i) + 2] = (byte)b;
        }

        return palette;
    }
}
