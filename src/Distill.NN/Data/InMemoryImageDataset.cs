namespace Distill.NN.Data;

/// <summary>
/// Same-sized 8-bit images held in one byte array (CHW per image) with their labels: how the IDX and
/// CIFAR readers keep a data set (1 byte per pixel, decoded to floats per sample).
/// </summary>
public sealed class InMemoryImageDataset : IImageDataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>Creates the data set over existing arrays (not copied).</summary>
    public InMemoryImageDataset(byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        if ((long)labels.Length * channels * height * width != pixels.Length)
        {
            throw new ArgumentException($"{labels.Length} labels need {(long)labels.Length * channels * height * width} pixel bytes; got {pixels.Length}", nameof(pixels));
        }

        var bad = Array.FindIndex(labels, l => l < 0 || l >= classes.Count);
        if (bad >= 0)
        {
            throw new ArgumentException($"label {labels[bad]} of sample {bad} is outside the {classes.Count} classes", nameof(labels));
        }

        _pixels = pixels;
        _labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
    }

    /// <inheritdoc />
    public int Count => _labels.Length;

    /// <inheritdoc />
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Channels per image.</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>All labels, in order.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <inheritdoc />
    public int LabelOf(int index) => _labels[index];


    /// <inheritdoc />
    public Sample Get(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var size = Channels * Height * Width;
        var image = Image.FromBytes(_pixels.AsSpan(index * size, size), Channels, Height, Width, interleaved: false);
        return new Sample(image, _labels[index], index);
    }

    /// <summary>The first <paramref name="count"/> samples (or fewer), sharing nothing with this set: for quick runs.</summary>
    public InMemoryImageDataset Take(int count)
    {
        var n = Math.Min(count, Count);
        var size = Channels * Height * Width;
        return new InMemoryImageDataset(_pixels.AsSpan(0, n * size).ToArray(), _labels.AsSpan(0, n).ToArray(), Channels, Height, Width, Classes);
    }
}
