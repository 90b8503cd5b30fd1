namespace Distill.NN.Data.Segmentation;

/// <summary>
/// Reads and writes label PNGs as class indices. A palette PNG (VOC's SegmentationClass) is read as its palette indices,
/// not as the colours they name (an image decoder such as OpenCV's expands them to colours); a grey PNG as its values.
/// 1/2/4/8-bit palette and 1/2/4/8-bit grey files are read; 16-bit grey is read when every value fits a byte; colour,
/// grey + alpha and interlaced files are refused. Every error names the file and the byte offset.
/// </summary>
public static class LabelPng
{
    /// <summary>Decodes a label PNG's bytes; <paramref name="source"/> names the file in error messages.</summary>
    /// <exception cref="DataFormatException">Not a readable grey or palette PNG (the message names the source and the byte offset).</exception>
    public static LabelImage Decode(ReadOnlySpan<byte> bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return PngFormat.Decode(bytes, source);
    }

    /// <summary>Reads a label PNG file.</summary>
    /// <exception cref="DataFormatException">The file is missing, unreadable, or not a readable grey or palette PNG.</exception>
    public static LabelImage Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{path}: cannot be read: {e.Message}", e);
        }

        return PngFormat.Decode(bytes, path);
    }

    /// <summary>
    /// Encodes indices (row by row) as an 8-bit PNG: grey when <paramref name="palette"/> is null, else a palette PNG with
    /// that palette (R, G, B bytes, 1 to 256 entries, e.g. <see cref="VocPalette.Colors"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not match the data, or the palette is not 1 to 256 RGB entries.</exception>
    public static byte[] Encode(ReadOnlySpan<byte> indices, int height, int width, IReadOnlyList<byte>? palette = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if ((long)height * width != indices.Length)
        {
            throw new ArgumentException($"a {height}x{width} label map needs {(long)height * width} indices; got {indices.Length}", nameof(indices));
        }

        if (palette is not null && (palette.Count == 0 || palette.Count % 3 != 0 || palette.Count > 768))
        {
            throw new ArgumentException($"a palette is 1 to 256 RGB entries (3 to 768 bytes); got {palette.Count} bytes", nameof(palette));
        }

        return PngFormat.Encode(width, height, palette is null ? PngFormat.Grey : PngFormat.Palette, 8, indices, palette?.ToArray());
    }
}
