namespace Distill.NN.Data.Segmentation;

/// <summary>
/// A label PNG as stored: one index per pixel (the palette index of a palette PNG, the grey value of a grey PNG), and the
/// palette when the file has one. Nothing is expanded to colours.
/// </summary>
public sealed class LabelImage
{
    internal LabelImage(int height, int width, byte[] indices, byte[]? palette, int colorType, int bitDepth)
    {
        Height = height;
        Width = width;
        Indices = indices;
        Palette = palette;
        ColorType = colorType;
        BitDepth = bitDepth;
    }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>The stored index of every pixel, row by row.</summary>
    public byte[] Indices { get; }

    /// <summary>The palette's colours as R, G, B bytes (3 per entry), or null for a grey PNG.</summary>
    public byte[]? Palette { get; }

    /// <summary>The PNG colour type: 0 (grey) or 3 (palette).</summary>
    public int ColorType { get; }

    /// <summary>Bits per stored sample (1, 2, 4, 8, or 16 for grey).</summary>
    public int BitDepth { get; }

    /// <summary>A short description for messages ("8-bit palette", "16-bit grey").</summary>
    public string Describe() => $"{BitDepth}-bit {(ColorType == 3 ? "palette" : "grey")}";
}
