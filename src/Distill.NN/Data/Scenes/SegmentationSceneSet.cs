namespace Distill.NN.Data.Scenes;

/// <summary>
/// The segmentation scene set of docs/data/scenes.md as a lazy dataset: sample i is scene i of the split, generated on
/// demand from its own seeded generator; its target is a <see cref="Mask"/> over 11 classes (background + 10).
/// </summary>
public sealed class SegmentationSceneSet : SceneSet
{
    /// <summary>The class names: background, then the Fashion-MNIST classes.</summary>
    public static readonly IReadOnlyList<string> SceneClasses = ["background", .. IdxReader.FashionMnistClasses];

    /// <summary>Normalisation mean of the default scenes (docs/data/scenes.md, measured over 1 000 scenes).</summary>
    public const float Mean = 0.20f;

    /// <summary>Normalisation standard deviation of the default scenes (docs/data/scenes.md).</summary>
    public const float Std = 0.25f;

    /// <summary>Creates the set.</summary>
    /// <param name="glyphs">The split's glyph pool.</param>
    /// <param name="split">The split (its id enters the seed).</param>
    /// <param name="count">Number of scenes.</param>
    /// <param name="baseSeed">The base seed (1 for the published benchmark).</param>
    /// <param name="options">Generator knobs; the spec's defaults when null.</param>
    public SegmentationSceneSet(GlyphPool glyphs, SceneSplit split, int count, ulong baseSeed = 1, SceneOptions? options = null)
        : base(glyphs, split, count, baseSeed, options ?? new SceneOptions())
    {
    }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Classes => SceneClasses;

    /// <summary>The spec's size of a split: train 5 000, val 1 000, test 2 000.</summary>
    public static int DefaultCount(SceneSplit split) => split switch
    {
        SceneSplit.Train => 5_000,
        SceneSplit.Val => 1_000,
        SceneSplit.Test => 2_000,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown scene split"),
    };

    /// <summary>The spec's split over installed Fashion-MNIST: its glyph pool and size.</summary>
    public static SegmentationSceneSet Load(SceneSplit split, ulong baseSeed = 1, string directory = IdxReader.FashionMnistDirectory) =>
        new(GlyphPool.ForSplit(split, directory), split, DefaultCount(split), baseSeed);

    /// <inheritdoc/>
    public override Sample Get(int index)
    {
        var scene = Scene(index);
        return new Sample(scene.Image, scene.Mask, index);
    }
}
