using System.Buffers.Binary;
using System.IO.Compression;

namespace Distill.Testing;

/// <summary>Writes a tiny, learnable 10-class IDX data set (12x12 gray images, gzip) for end-to-end runs with dataset: idx.</summary>
public static class TinyIdx
{
    /// <summary>Writes train-* (<paramref name="train"/> images) and t10k-* (<paramref name="test"/> images) into <paramref name="root"/>.</summary>
    public static void Write(string root, int train, int test)
    {
        WriteSplit(root, "train", train);
        WriteSplit(root, "t10k", test);
    }

    private static void WriteSplit(string root, string prefix, int count)
    {
        const int Size = 12;
        var random = new Random(prefix.Length);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        var pixels = new byte[count * Size * Size];
        for (var i = 0; i < count; i++)
        {
            for (var p = 0; p < Size * Size; p++)
            {
                pixels[(i * Size * Size) + p] = (byte)(((p % Size) < labels[i] + 1 ? 180 : 20) + random.Next(0, 50));
            }
        }

        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, 0x0803);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), Size);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), Size);
        var labelHeader = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(labelHeader, 0x0801);
        BinaryPrimitives.WriteInt32BigEndian(labelHeader.AsSpan(4), count);
        Gzip(Path.Combine(root, $"{prefix}-images-idx3-ubyte.gz"), [.. header, .. pixels]);
        Gzip(Path.Combine(root, $"{prefix}-labels-idx1-ubyte.gz"), [.. labelHeader, .. labels]);
    }

    private static void Gzip(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(bytes);
    }
}
