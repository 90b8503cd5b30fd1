namespace Distill.NN.Data.Scenes;

/// <summary>A contiguous range of a square grey image set (Fashion-MNIST) that one split draws its glyphs from.</summary>
public sealed class GlyphPool
{
    private readonly IImageDataset _source;

    /// <summary>Creates a pool of <paramref name="count"/> images of <paramref name="source"/> from <paramref name="start"/>.</summary>
    public GlyphPool(IImageDataset source, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if ((long)start + count > source.Count)
        {
            throw new ArgumentException($"a glyph pool of images {start}..{start + count - 1} needs {start + count} images; the source has {source.Count}", nameof(count));
        }

        _source = source;
        Start = start;
        Count = count;
    }

    /// <summary>First source index of the pool.</summary>
    public int Start { get; }

    /// <summary>Number of glyphs.</summary>
    public int Count { get; }

    /// <summary>The pool of a split per docs/data/scenes.md: train images 0–54 999 (train), 55 000–59 999 (val), all test images (test).</summary>
    public static GlyphPool ForSplit(SceneSplit split, string directory = IdxReader.FashionMnistDirectory) => split switch
    {
        SceneSplit.Train => new GlyphPool(IdxReader.LoadFashionMnist(train: true, directory), 0, 55_000),
        SceneSplit.Val => new GlyphPool(IdxReader.LoadFashionMnist(train: true, directory), 55_000, 5_000),
        SceneSplit.Test => FromAll(IdxReader.LoadFashionMnist(train: false, directory)),
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown scene split"),
    };

    /// <summary>The source index of glyph <paramref name="glyph"/>.</summary>
    public int SourceIndex(int glyph) => Start + glyph;

    /// <summary>The glyph's class label.</summary>
    public int ClassOf(int glyph) => _source.LabelOf(Start + glyph);

    /// <summary>The glyph's pixels in [0, 1], row-major.</summary>
    public float[] Glyph(int glyph)
    {
        var image = _source.Get(Start + glyph).Image;
        if (image.Channels != 1 || image.Height != image.Width)
        {
            throw new InvalidOperationException($"glyph {Start + glyph} is {image.Channels}x{image.Height}x{image.Width}; glyphs must be single-channel squares");
        }

        return image.Data;
    }

    private static GlyphPool FromAll(IImageDataset source) => new(source, 0, source.Count);
}
