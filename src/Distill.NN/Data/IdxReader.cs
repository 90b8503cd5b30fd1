using System.Buffers.Binary;
using System.IO.Compression;

namespace Distill.NN.Data;

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST layout: big-endian magic 0x0000_08_NN with NN dimensions,
/// NN big-endian sizes, then unsigned bytes), gzip-compressed or raw.
/// </summary>
public static class IdxReader
{
    /// <summary>The ten Fashion-MNIST classes.</summary>
    public static readonly IReadOnlyList<string> FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Loads Fashion-MNIST's train or test split from a folder holding the four original files (gzipped or not).</summary>
    public static InMemoryImageDataset LoadFashionMnist(bool train, string directory = FashionMnistDirectory)
    {
        var prefix = train ? "train" : "t10k";
        return Load(FindFile(directory, $"{prefix}-images-idx3-ubyte"), FindFile(directory, $"{prefix}-labels-idx1-ubyte"), FashionMnistClasses);
    }

    /// <summary>
    /// The path of <paramref name="name"/> in <paramref name="directory"/> as it is stored: the raw name
    /// (how the MNIST site's files unpack) or the name with .gz (how they are downloaded). Whether a file is
    /// compressed is decided by its first bytes when it is read, not by its name.
    /// </summary>
    /// <exception cref="DataFormatException">Neither file exists.</exception>
    public static string FindFile(string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(name);
        var raw = Path.Combine(directory, name);
        var gzip = raw + ".gz";
        return File.Exists(raw) ? raw : File.Exists(gzip) ? gzip
            : throw new DataFormatException($"{raw}: no such file (nor {gzip})");
    }

    /// <summary>Loads an image file (3 dims: N, H, W) and a label file (1 dim: N) into a 1-channel data set.</summary>
    /// <exception cref="DataFormatException">A file is missing, truncated, has the wrong magic, or the counts disagree.</exception>
    public static InMemoryImageDataset Load(string imagesPath, string labelsPath, IReadOnlyList<string> classes)
    {
        var (imageDims, pixels) = Read(imagesPath);
        var (labelDims, labelBytes) = Read(labelsPath);
        if (imageDims.Length != 3)
        {
            throw new DataFormatException($"{imagesPath}: an image file has 3 dimensions (N, H, W); this one has {imageDims.Length}");
        }

        if (labelDims.Length != 1)
        {
            throw new DataFormatException($"{labelsPath}: a label file has 1 dimension; this one has {labelDims.Length}");
        }

        if (imageDims[0] != labelDims[0])
        {
            throw new DataFormatException($"{imagesPath} holds {imageDims[0]} images but {labelsPath} holds {labelDims[0]} labels");
        }

        var labels = new int[labelBytes.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = labelBytes[i];
            if (labels[i] >= classes.Count)
            {
                throw new DataFormatException($"{labelsPath}: label {labels[i]} at byte {8 + i} is outside the {classes.Count} classes");
            }
        }

        return new InMemoryImageDataset(pixels, labels, 1, imageDims[1], imageDims[2], classes);
    }

    /// <summary>Reads one IDX file of unsigned bytes: its dimensions and data.</summary>
    public static (int[] Dimensions, byte[] Data) Read(string path)
    {
        byte[] bytes;
        try
        {
            using var file = File.OpenRead(path);
            var head = new byte[2];
            var gzip = file.Read(head) == 2 && head[0] == 0x1f && head[1] == 0x8b;
            file.Position = 0;
            using var source = gzip ? (Stream)new GZipStream(file, CompressionMode.Decompress) : file;
            using var buffer = new MemoryStream();
            source.CopyTo(buffer);
            bytes = buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new DataFormatException($"{path}: cannot be read: {e.Message}", e);
        }

        if (bytes.Length < 4)
        {
            throw new DataFormatException($"{path}: truncated: {bytes.Length} bytes, less than the 4-byte magic number");
        }

        if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
        {
            throw new DataFormatException($"{path}: not an IDX file of unsigned bytes: magic {bytes[0]:x2} {bytes[1]:x2} {bytes[2]:x2} {bytes[3]:x2} at byte 0, expected 00 00 08 NN");
        }

        var rank = bytes[3];
        var headerLength = 4 + (4 * rank);
        if (bytes.Length < headerLength)
        {
            throw new DataFormatException($"{path}: truncated in the header: {rank} dimensions need {headerLength} bytes; the file has {bytes.Length}");
        }

        var dims = new int[rank];
        long total = 1;
        for (var d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + (4 * d)));
            total *= dims[d];
        }

        if (bytes.Length - headerLength != total)
        {
            throw new DataFormatException(
                $"{path}: {(bytes.Length - headerLength < total ? "truncated" : "too long")}: dimensions [{string.Join(", ", dims)}] need {total} bytes after the {headerLength}-byte header; the file has {bytes.Length - headerLength}");
        }

        return (dims, bytes.AsSpan(headerLength).ToArray());
    }
}
