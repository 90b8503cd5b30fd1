using Distill.NN.Data;
using Distill.NN.Data.Segmentation;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests.Segmentation;

/// <summary>
/// Label PNGs read as the stored indices. Files are written by our small encoder (every filter, bit depth) and checked
/// against libpng through OpenCV both ways: OpenCV reads our files (as colours, for a palette), we read OpenCV's.
/// </summary>
public sealed class LabelPngTests
{
    private static byte[] Indices(int height, int width, int levels, int seed)
    {
        var random = new Random(seed);
        var values = new byte[height * width];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (byte)random.Next(0, levels);
        }

        return values;
    }

    private static byte[] OpenCvDecode(byte[] png, int channels)
    {
        using var t = ImageCodec.Decode(png, channels);
        return t.ToArray<byte>();
    }

    [Fact]
    public void PalettePng_DecodesToTheIndicesWritten_NotToTheColoursOpenCvGives()
    {
        var indices = Indices(7, 9, 21, seed: 1);
        indices[0] = Mask.Ignore;
        var png = LabelPng.Encode(indices, 7, 9, VocPalette.Colors);

        var label = LabelPng.Decode(png, "voc.png");
        Assert.Equal(indices, label.Indices);
        Assert.Equal((7, 9, 3, 8), (label.Height, label.Width, label.ColorType, label.BitDepth));
        Assert.Equal(VocPalette.Colors, label.Palette);

        // libpng reads the same file as the palette's colours: what a label reader must not return.
        var rgb = OpenCvDecode(png, 3);
        for (var i = 0; i < indices.Length; i++)
        {
            var (r, g, b) = VocPalette.Color(indices[i]);
            Assert.Equal([r, g, b], rgb[(3 * i)..((3 * i) + 3)]);
        }
    }

    [Fact]
    public void GreyPng_WithIgnore255_DecodesToItsValues()
    {
        byte[] values = [0, 1, 2, 255, 10, 255];
        var label = LabelPng.Decode(LabelPng.Encode(values, 2, 3), "grey.png");
        Assert.Equal(values, label.Indices);
        Assert.Null(label.Palette);
        Assert.Equal("8-bit grey", label.Describe());
    }

    [Fact]
    public void GreyPngWrittenByLibpng_DecodesToTheSameBytes()
    {
        // libpng chooses its own row filters and compression; a smooth ramp plus noise makes it use several.
        const int h = 23, w = 31;
        var random = new Random(5);
        var pixels = new byte[h * w];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(((i % w) * 7) + ((i / w) * 3) + random.Next(0, 4));
        }

        using var t = Tensor.From(pixels, h, w, 1);
        var png = ImageCodec.EncodePng(t);
        Assert.Equal(pixels, LabelPng.Decode(png, "libpng.png").Indices);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void PalettePngOfEachBitDepth_DecodesToIndices_AndLibpngAgreesOnTheColours(int bitDepth)
    {
        const int h = 5, w = 13; // 13 columns leave unused bits at the end of each row for depths 1, 2 and 4
        var indices = Indices(h, w, 1 << bitDepth, seed: bitDepth);
        var palette = VocPalette.Colors[..(3 << bitDepth)];
        var png = PngFormat.Encode(w, h, PngFormat.Palette, bitDepth, PngFormat.Pack(indices, h, w, bitDepth), palette, y => y % 5);

        var label = LabelPng.Decode(png, "small.png");
        Assert.Equal(indices, label.Indices);
        Assert.Equal(bitDepth, label.BitDepth);
        var rgb = OpenCvDecode(png, 3);
        Assert.Equal(indices.SelectMany(i => new[] { palette[3 * i], palette[(3 * i) + 1], palette[(3 * i) + 2] }), rgb);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void GreyPngOfSubByteDepth_DecodesToTheStoredValues(int bitDepth)
    {
        const int h = 4, w = 11;
        var values = Indices(h, w, 1 << bitDepth, seed: 10 + bitDepth);
        var png = PngFormat.Encode(w, h, PngFormat.Grey, bitDepth, PngFormat.Pack(values, h, w, bitDepth), null);
        Assert.Equal(values, LabelPng.Decode(png, "grey-small.png").Indices);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EachRowFilter_DecodesToTheRowsWritten_AsLibpngReadsThem(int filter)
    {
        const int h = 9, w = 17;
        var values = Indices(h, w, 256, seed: 20 + filter);
        var png = PngFormat.Encode(w, h, PngFormat.Grey, 8, values, null, _ => filter);
        Assert.Equal(values, LabelPng.Decode(png, "filtered.png").Indices);
        Assert.Equal(values, OpenCvDecode(png, 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void SixteenBitGrey_FiltersOverTwoBytesPerPixel_AndValuesUpTo255Read(int filter)
    {
        const int h = 3, w = 5;
        var values = Indices(h, w, 256, seed: 30 + filter);
        var rows = values.SelectMany(v => new byte[] { 0, v }).ToArray();
        var png = PngFormat.Encode(w, h, PngFormat.Grey, 16, rows, null, _ => filter);
        Assert.Equal(values, LabelPng.Decode(png, "deep.png").Indices);
    }

    [Fact]
    public void SixteenBitGrey_AValueAbove255_IsRefusedNamingTheValueAndPixel()
    {
        byte[] rows = [0, 3, 0x01, 0x00]; // 1 x 2 pixels: 3, 256
        var png = PngFormat.Encode(2, 1, PngFormat.Grey, 16, rows, null);
        var e = Assert.Throws<DataFormatException>(() => LabelPng.Decode(png, "deep.png"));
        Assert.Contains("deep.png", e.Message, StringComparison.Ordinal);
        Assert.Contains("16-bit grey value 256 at row 0, column 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CorruptChunk_IsDetectedByItsCrc_WithTheChunkAndItsByteOffset()
    {
        var png = LabelPng.Encode(Indices(4, 4, 3, seed: 2), 4, 4);
        // Signature (8) + IHDR chunk (12 + 13) puts IDAT at byte 33; flip a byte of its data.
        Assert.Equal("IDAT"u8.ToArray(), png[37..41]);
        png[42] ^= 0x40;
        var e = Assert.Throws<DataFormatException>(() => LabelPng.Decode(png, "broken.png"));
        Assert.StartsWith("broken.png: byte 33: chunk 'IDAT' is corrupt: its CRC", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InterlacedPng_IsRefused_NamingTheHeaderByte()
    {
        var png = PngFormat.Encode(2, 2, PngFormat.Grey, 8, new byte[4], null, interlace: 1);
        var e = Assert.Throws<DataFormatException>(() => LabelPng.Decode(png, "adam7.png"));
        Assert.StartsWith("adam7.png: byte 28: Adam7-interlaced", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RgbPng_IsRefused_AsNotAnIndexMap()
    {
        var png = PngFormat.Encode(2, 1, PngFormat.Rgb, 8, new byte[6], null);
        var e = Assert.Throws<DataFormatException>(() => LabelPng.Decode(png, "colour.png"));
        Assert.StartsWith("colour.png: byte 25: an RGB PNG (colour type 2); a label map must be a grey or palette PNG", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotAPng_AndATruncatedFile_AreRefusedWithTheirOffsets()
    {
        var notPng = Assert.Throws<DataFormatException>(() => LabelPng.Decode("GIF89a.."u8, "x.gif"));
        Assert.StartsWith("x.gif: byte 0: not a PNG file", notPng.Message, StringComparison.Ordinal);

        var png = LabelPng.Encode(new byte[16], 4, 4);
        var truncated = Assert.Throws<DataFormatException>(() => LabelPng.Decode(png.AsSpan(0, 45), "cut.png"));
        Assert.StartsWith("cut.png: byte 33: chunk 'IDAT' claims", truncated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VocPalette_HasTheKnownColours()
    {
        Assert.Equal((0, 0, 0), ToInts(VocPalette.Color(0)));
        Assert.Equal((128, 0, 0), ToInts(VocPalette.Color(1)));
        Assert.Equal((0, 128, 0), ToInts(VocPalette.Color(2)));
        Assert.Equal((128, 128, 0), ToInts(VocPalette.Color(3)));
        Assert.Equal((192, 128, 128), ToInts(VocPalette.Color(15))); // person
        Assert.Equal((224, 224, 192), ToInts(VocPalette.Color(255))); // the border colour
        Assert.Equal(768, VocPalette.Colors.Length);
        Assert.Equal(21, VocPalette.ClassNames.Count);

        static (int, int, int) ToInts((byte R, byte G, byte B) c) => (c.R, c.G, c.B);
    }
}
