using System.Buffers.Binary;
using System.IO.Compression;

namespace Distill.Testing;

/// <summary>Writes a tiny, learnable 10-class IDX data set (12x12 gray images, gzip) for end-to-end runs with dataset: idx.</summary>
public static class TinyIdx
{
    /// <summary>
    /// Writes train-* (<paramref name="train"/> images) and t10k-* (<paramref name="test"/> images) into
    /// <paramref name="root"/>, gzipped (<c>.gz</c>) or raw as the canonical MNIST files are.
    /// </summary>
    public static void Write(string root, int train, int test, bool gzip = true)
    {
        WriteSplit(root, "train", train, gzip);
        WriteSplit(root, "t10k", test, gzip);
    }

    private static void WriteSplit(string root, string prefix, int count, bool gzip)
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

        var suffix = gzip ? ".gz" : string.Empty;
        WritePair(Path.Combine(root, $"{prefix}-images-idx3-ubyte{suffix}"), Path.Combine(root, $"{prefix}-labels-idx1-ubyte{suffix}"), pixels, labels, Size, Size, gzip);
    }

    /// <summary>
    /// The start of a recipe that trains resnet8 on the IDX data set under <paramref name="root"/> in batches of 16
    /// (its data and student sections), followed by <paramref name="rest"/>: the other sections, as YAML.
    /// </summary>
    public static string Recipe(string root, string rest) =>
        $"data:\n  dataset: idx\n  root: {root}\n  batch_size: 16\nstudent:\n  model: resnet8\n{rest}";

    /// <summary>
    /// Writes one IDX pair: <paramref name="imagesPath"/> (magic 0x0803, count, <paramref name="height"/>,
    /// <paramref name="width"/>, then <paramref name="pixels"/>) and <paramref name="labelsPath"/> (magic 0x0801,
    /// count, then <paramref name="labels"/>), the count being the number of labels; gzip-compressed when
    /// <paramref name="gzip"/> (the paths are used as given).
    /// </summary>
    public static void WritePair(string imagesPath, string labelsPath, byte[] pixels, byte[] labels, int height, int width, bool gzip)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, 0x0803);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), labels.Length);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), height);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), width);
        var labelHeader = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(labelHeader, 0x0801);
        BinaryPrimitives.WriteInt32BigEndian(labelHeader.AsSpan(4), labels.Length);
        Save(imagesPath, [.. header, .. pixels], gzip);
        Save(labelsPath, [.. labelHeader, .. labels], gzip);
    }

    private static void Save(string path, byte[] bytes, bool gzip)
    {
        using var file = File.Create(path);
        using var stream = gzip ? (Stream)new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write(bytes);
    }
}
