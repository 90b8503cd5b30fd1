namespace Distill.NN.Data.Scenes;

/// <summary>
/// A lazy data set of generated scenes: sample i is scene i of the split, drawn on demand from its own seeded generator
/// (<see cref="SceneGenerator.SeedOf"/>), so any sample can be made in any order, on any thread. A task's set labels the
/// scene its own way (<see cref="SegmentationSceneSet"/>: masks, <see cref="DetectionSceneSet"/>: boxes).
/// </summary>
public abstract class SceneSet : IImageDataset
{
    /// <summary>Creates the set.</summary>
    /// <param name="glyphs">The split's glyph pool.</param>
    /// <param name="split">The split (its id enters the seed).</param>
    /// <param name="count">Number of scenes.</param>
    /// <param name="baseSeed">The base seed (1 for the published benchmark).</param>
    /// <param name="options">Generator knobs.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative count or one above 100 000.</exception>
    protected SceneSet(GlyphPool glyphs, SceneSplit split, int count, ulong baseSeed, SceneOptions options)
    {
        ArgumentNullException.ThrowIfNull(glyphs);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 100_000);
        options.Validate();
        Options = options;
        Glyphs = glyphs;
        Split = split;
        Count = count;
        BaseSeed = baseSeed;
    }

    /// <summary>The split.</summary>
    public SceneSplit Split { get; }

    /// <summary>The base seed.</summary>
    public ulong BaseSeed { get; }

    /// <summary>The glyph pool.</summary>
    public GlyphPool Glyphs { get; }

    /// <summary>The generator knobs.</summary>
    public SceneOptions Options { get; }

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public abstract IReadOnlyList<string> Classes { get; }

    /// <summary>Generates scene <paramref name="index"/> with its objects and instance map.</summary>
    public Scene Scene(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return SceneGenerator.Generate(Glyphs, SceneGenerator.SeedOf(BaseSeed, Split, index), Options);
    }

    /// <inheritdoc/>
    public abstract Sample Get(int index);

    /// <summary>Scenes have no single class; stratified sampling does not apply.</summary>
    public int LabelOf(int index) =>
        throw new NotSupportedException("a scene is labelled per pixel or per object, not with one class; a scene set has no per-sample class");
}
