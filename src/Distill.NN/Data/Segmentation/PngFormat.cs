using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Distill.NN.Data.Segmentation;

/// <summary>
/// A small PNG reader and writer for label maps: chunks with their CRC checked, IHDR, PLTE, the IDAT stream inflated
/// by zlib, the five row filters, grey (1-16 bit) and palette (1-8 bit) samples kept as the stored indices. Interlaced
/// and colour (RGB, grey + alpha) files are refused: a label map holds indices.
/// </summary>
internal static class PngFormat
{
    /// <summary>The 8-byte PNG signature.</summary>
    internal static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The largest image accepted, in pixels (a bound against crafted headers).</summary>
    internal const long MaxPixels = 1L << 28;

    internal const int Grey = 0;
    internal const int Rgb = 2;
    internal const int Palette = 3;
    internal const int GreyAlpha = 4;
    internal const int Rgba = 6;

    /// <summary>Decodes a grey or palette PNG to its stored indices; <paramref name="source"/> names the file in messages.</summary>
    /// <exception cref="DataFormatException">The bytes are not such a PNG; the message names the source and the byte offset.</exception>
    internal static LabelImage Decode(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < Signature.Length || !bytes[..Signature.Length].SequenceEqual(Signature))
        {
            throw Error(source, 0, "not a PNG file (the first 8 bytes are not the PNG signature)");
        }

        int width = 0, height = 0, bitDepth = 0, colorType = -1;
        byte[]? palette = null;
        using var compressed = new MemoryStream();
        var idatOffset = -1;
        var offset = Signature.Length;
        var seenEnd = false;
        var first = true;
        while (!seenEnd)
        {
            if (bytes.Length - offset < 12)
            {
                throw Error(source, offset, $"the file ends inside a chunk header ({bytes.Length - offset} bytes left; no IEND chunk)");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(bytes[offset..]);
            var typeBytes = bytes.Slice(offset + 4, 4);
            var type = System.Text.Encoding.ASCII.GetString(typeBytes);
            if (length > int.MaxValue || length > (uint)(bytes.Length - offset - 12))
            {
                throw Error(source, offset, $"chunk '{type}' claims {length} bytes of data but only {bytes.Length - offset - 12} remain in the file");
            }

            var data = bytes.Slice(offset + 8, (int)length);
            var stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[(offset + 8 + (int)length)..]);
            var computed = Crc32.HashToUInt32(bytes.Slice(offset + 4, 4 + (int)length));
            if (stored != computed)
            {
                throw Error(source, offset, $"chunk '{type}' is corrupt: its CRC is 0x{stored:x8} but its bytes give 0x{computed:x8}");
            }

            if (first && type != "IHDR")
            {
                throw Error(source, offset, $"the first chunk is '{type}', not IHDR");
            }

            switch (type)
            {
                case "IHDR":
                    if (!first)
                    {
                        throw Error(source, offset, "a second IHDR chunk");
                    }

                    (width, height, bitDepth, colorType) = Header(data, source, offset);
                    break;
                case "PLTE":
                    if (length == 0 || length % 3 != 0 || length > 768)
                    {
                        throw Error(source, offset, $"PLTE chunk of {length} bytes (a palette is 1 to 256 RGB entries, 3 bytes each)");
                    }

                    palette = data.ToArray();
                    break;
                case "IDAT":
                    if (idatOffset < 0)
                    {
                        idatOffset = offset;
                    }

                    compressed.Write(data);
                    break;
                case "IEND":
                    seenEnd = true;
                    break;
                default:
                    if (char.IsAsciiLetterUpper(type[0]))
                    {
                        throw Error(source, offset, $"unknown critical chunk '{type}'");
                    }

                    break;
            }

            first = false;
            offset += 12 + (int)length;
        }

        if (idatOffset < 0)
        {
            throw Error(source, offset, "no IDAT chunk (the file has no image data)");
        }

        if (colorType == Palette && palette is null)
        {
            throw Error(source, idatOffset, "a palette PNG without a PLTE chunk before its image data");
        }

        var bitsPerPixel = bitDepth;
        var rowBytes = (int)(((long)width * bitsPerPixel + 7) / 8);
        var filtered = Inflate(compressed, (long)height * (rowBytes + 1), source, idatOffset);
        var raw = Unfilter(filtered, height, rowBytes, Math.Max(1, bitsPerPixel / 8), source, idatOffset);
        var indices = Unpack(raw, height, width, rowBytes, bitDepth, source, idatOffset);
        return new LabelImage(height, width, indices, colorType == Palette ? palette : null, colorType, bitDepth);
    }

    /// <summary>
    /// Writes a PNG of one sample per pixel (grey or palette) from packed rows (<paramref name="height"/> rows of
    /// ceil(width x bitDepth / 8) bytes), each row with the filter <paramref name="filterOfRow"/> picks (None when null).
    /// </summary>
    internal static byte[] Encode(int width, int height, int colorType, int bitDepth, ReadOnlySpan<byte> packedRows, byte[]? palette,
        Func<int, int>? filterOfRow = null, int interlace = 0)
    {
        var bitsPerPixel = bitDepth * colorType switch { Rgb => 3, GreyAlpha => 2, Rgba => 4, _ => 1 };
        var rowBytes = (int)(((long)width * bitsPerPixel + 7) / 8);
        var bpp = Math.Max(1, bitsPerPixel / 8);
        if (packedRows.Length != (long)rowBytes * height)
        {
            throw new ArgumentException($"{height} rows of {rowBytes} bytes expected; got {packedRows.Length} bytes", nameof(packedRows));
        }

        var filtered = new byte[(long)height * (rowBytes + 1)];
        for (var y = 0; y < height; y++)
        {
            var filter = filterOfRow?.Invoke(y) ?? 0;
            var row = packedRows.Slice(y * rowBytes, rowBytes);
            var previous = y > 0 ? packedRows.Slice((y - 1) * rowBytes, rowBytes) : new byte[rowBytes];
            var target = filtered.AsSpan((y * (rowBytes + 1)) + 1, rowBytes);
            filtered[y * (rowBytes + 1)] = (byte)filter;
            for (var i = 0; i < rowBytes; i++)
            {
                int a = i >= bpp ? row[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
                target[i] = (byte)(row[i] - filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    4 => Paeth(a, b, c),
                    _ => throw new ArgumentOutOfRangeException(nameof(filterOfRow), filter, "PNG row filters are 0 to 4"),
                });
            }
        }

        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(filtered);
        }

        using var file = new MemoryStream();
        file.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = (byte)bitDepth;
        header[9] = (byte)colorType;
        header[12] = (byte)interlace;
        WriteChunk(file, "IHDR", header);
        if (palette is not null)
        {
            WriteChunk(file, "PLTE", palette);
        }

        WriteChunk(file, "IDAT", idat.ToArray());
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>Packs one sample per pixel (values below 2^bitDepth) into PNG rows, most significant bits first.</summary>
    internal static byte[] Pack(ReadOnlySpan<byte> samples, int height, int width, int bitDepth)
    {
        if (bitDepth == 8)
        {
            return samples.ToArray();
        }

        var rowBytes = ((width * bitDepth) + 7) / 8;
        var packed = new byte[rowBytes * height];
        var perByte = 8 / bitDepth;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var shift = 8 - (bitDepth * ((x % perByte) + 1));
                packed[(y * rowBytes) + (x / perByte)] |= (byte)(samples[(y * width) + x] << shift);
            }
        }

        return packed;
    }

    private static void WriteChunk(Stream file, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        file.Write(word);
        var typed = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed.AsSpan(4));
        file.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typed));
        file.Write(word);
    }

    private static (int Width, int Height, int BitDepth, int ColorType) Header(ReadOnlySpan<byte> data, string source, int offset)
    {
        if (data.Length != 13)
        {
            throw Error(source, offset, $"IHDR chunk of {data.Length} bytes (13 expected)");
        }

        var width = BinaryPrimitives.ReadUInt32BigEndian(data);
        var height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        int bitDepth = data[8], colorType = data[9];
        var at = offset + 8;
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue || (long)width * height > MaxPixels)
        {
            throw Error(source, at, $"image size {width}x{height} (width x height) is empty or larger than {MaxPixels} pixels");
        }

        var kind = colorType switch
        {
            Grey => bitDepth is 1 or 2 or 4 or 8 or 16 ? null : $"grey PNG with bit depth {bitDepth} (1, 2, 4, 8 or 16 are valid)",
            Palette => bitDepth is 1 or 2 or 4 or 8 ? null : $"palette PNG with bit depth {bitDepth} (1, 2, 4 or 8 are valid)",
            Rgb => "an RGB PNG (colour type 2)",
            Rgba => "an RGBA PNG (colour type 6)",
            GreyAlpha => "a grey + alpha PNG (colour type 4)",
            _ => $"colour type {colorType} (not a PNG colour type)",
        };
        if (kind is not null)
        {
            var hint = colorType is Rgb or Rgba or GreyAlpha
                ? "; a label map must be a grey or palette PNG whose values are class indices (a colour-coded mask must be converted to indices first)"
                : string.Empty;
            throw Error(source, at + 9, kind + hint);
        }

        if (data[10] != 0 || data[11] != 0)
        {
            throw Error(source, at + 10, $"compression method {data[10]} / filter method {data[11]} (only 0 / 0 exist)");
        }

        if (data[12] != 0)
        {
            throw Error(source, at + 12, data[12] == 1
                ? "Adam7-interlaced PNG: label PNGs are read without interlacing; save the file again without interlace"
                : $"interlace method {data[12]} (not a PNG interlace method)");
        }

        return ((int)width, (int)height, bitDepth, colorType);
    }

    private static byte[] Inflate(MemoryStream compressed, long expected, string source, int idatOffset)
    {
        if (expected > int.MaxValue)
        {
            throw Error(source, idatOffset, $"the image needs {expected} bytes of pixel data, more than a label map can have");
        }

        var result = new byte[expected];
        compressed.Position = 0;
        var read = 0;
        try
        {
            using var z = new ZLibStream(compressed, CompressionMode.Decompress, leaveOpen: true);
            while (read < result.Length)
            {
                var n = z.Read(result, read, result.Length - read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw Error(source, idatOffset, $"the compressed image data (IDAT chunks from this byte on) is corrupt: {e.Message}");
        }

        if (read < result.Length)
        {
            throw Error(source, idatOffset, $"the image data (IDAT chunks from this byte on) inflates to {read} bytes; {result.Length} expected for the header's size");
        }

        return result;
    }

    private static byte[] Unfilter(byte[] filtered, int height, int rowBytes, int bpp, string source, int idatOffset)
    {
        var raw = new byte[(long)height * rowBytes];
        for (var y = 0; y < height; y++)
        {
            var start = y * (rowBytes + 1);
            var filter = filtered[start];
            var row = raw.AsSpan(y * rowBytes, rowBytes);
            ReadOnlySpan<byte> previous = y > 0 ? raw.AsSpan((y - 1) * rowBytes, rowBytes) : new byte[rowBytes];
            var input = filtered.AsSpan(start + 1, rowBytes);
            switch (filter)
            {
                case 0:
                    input.CopyTo(row);
                    break;
                case 1:
                    for (var i = 0; i < rowBytes; i++)
                    {
                        row[i] = (byte)(input[i] + (i >= bpp ? row[i - bpp] : 0));
                    }

                    break;
                case 2:
                    for (var i = 0; i < rowBytes; i++)
                    {
                        row[i] = (byte)(input[i] + previous[i]);
                    }

                    break;
                case 3:
                    for (var i = 0; i < rowBytes; i++)
                    {
                        row[i] = (byte)(input[i] + (((i >= bpp ? row[i - bpp] : 0) + previous[i]) >> 1));
                    }

                    break;
                case 4:
                    for (var i = 0; i < rowBytes; i++)
                    {
                        row[i] = (byte)(input[i] + Paeth(i >= bpp ? row[i - bpp] : 0, previous[i], i >= bpp ? previous[i - bpp] : 0));
                    }

                    break;
                default:
                    throw Error(source, idatOffset,
                        $"row {y} has filter type {filter} (0 to 4 exist); at byte {start} of the inflated image data (IDAT chunks from this byte on)");
            }
        }

        return raw;
    }

    private static byte[] Unpack(byte[] raw, int height, int width, int rowBytes, int bitDepth, string source, int idatOffset)
    {
        var indices = new byte[(long)height * width];
        switch (bitDepth)
        {
            case 8:
                return raw;
            case 16:
                for (var y = 0; y < height; y++)
                {
                    for (var x = 0; x < width; x++)
                    {
                        var at = (y * rowBytes) + (2 * x);
                        if (raw[at] != 0)
                        {
                            throw Error(source, idatOffset,
                                $"16-bit grey value {(raw[at] << 8) | raw[at + 1]} at row {y}, column {x}: label indices here are 0 to 255 (save the labels as an 8-bit grey or palette PNG)");
                        }

                        indices[(y * width) + x] = raw[at + 1];
                    }
                }

                return indices;
            default:
                var perByte = 8 / bitDepth;
                var mask = (1 << bitDepth) - 1;
                for (var y = 0; y < height; y++)
                {
                    for (var x = 0; x < width; x++)
                    {
                        var shift = 8 - (bitDepth * ((x % perByte) + 1));
                        indices[(y * width) + x] = (byte)((raw[(y * rowBytes) + (x / perByte)] >> shift) & mask);
                    }
                }

                return indices;
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static DataFormatException Error(string source, long offset, string what) => new($"{source}: byte {offset}: {what}");
}
