namespace Distill.NN.Data.Scenes;

/// <summary>
/// The detection scene set of docs/data/detection.md as a lazy dataset: sample i is scene i of the split, drawn exactly as
/// the segmentation scenes are (same seeds and draw order) with <see cref="SceneOptions.Detection"/>'s knobs, and labelled
/// with <see cref="Boxes"/> over the 10 Fashion-MNIST classes: per visible object the tight box of its visible pixels, its
/// visible pixel count as its area, and a crowd flag on remnants (see <see cref="BoxesOf"/>).
/// </summary>
public sealed class DetectionSceneSet : SceneSet
{
    /// <summary>An object is a remnant (crowd) when its visible area is under this share of its unoccluded alpha area (compared as 10 visible &lt; 3 alpha)...</summary>
    public const double CrowdVisibleFraction = 0.3;

    /// <summary>... or under this many pixels.</summary>
    public const int CrowdMinArea = 20;

    /// <summary>Normalisation mean of the detection scenes (docs/data/detection.md, measured over 500 test scenes).</summary>
    public const float Mean = 0.16f;

    /// <summary>Normalisation standard deviation of the detection scenes (docs/data/detection.md).</summary>
    public const float Std = 0.22f;

    /// <summary>Creates the set.</summary>
    /// <param name="glyphs">The split's glyph pool.</param>
    /// <param name="split">The split (its id enters the seed).</param>
    /// <param name="count">Number of scenes.</param>
    /// <param name="baseSeed">The base seed (1 for the published benchmark).</param>
    /// <param name="options">Generator knobs; <see cref="SceneOptions.Detection"/> when null.</param>
    public DetectionSceneSet(GlyphPool glyphs, SceneSplit split, int count, ulong baseSeed = 1, SceneOptions? options = null)
        : base(glyphs, split, count, baseSeed, options ?? SceneOptions.Detection)
    {
    }

    /// <summary>The 10 Fashion-MNIST classes (labels 0-9; the COCO export numbers them 1-10).</summary>
    public override IReadOnlyList<string> Classes => IdxReader.FashionMnistClasses;

    /// <summary>The spec's split over installed Fashion-MNIST: its glyph pool and size (train 5 000, val 1 000, test 2 000).</summary>
    public static DetectionSceneSet Load(SceneSplit split, ulong baseSeed = 1, string directory = IdxReader.FashionMnistDirectory) =>
        new(GlyphPool.ForSplit(split, directory), split, SegmentationSceneSet.DefaultCount(split), baseSeed);

    /// <summary>
    /// The boxes of a scene, in paste order over its visible objects: the tight box of each object's visible pixels in
    /// continuous coordinates (x1 = first column, x2 = last column + 1), its label (the glyph's class), its area (the
    /// visible pixel count) and crowd when the visible area is under <see cref="CrowdVisibleFraction"/> of the object's
    /// unoccluded alpha area or under <see cref="CrowdMinArea"/> pixels. An object wholly covered by later ones has no
    /// box and is left out.
    /// </summary>
    public static Boxes BoxesOf(Scene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        int h = scene.Mask.Height, w = scene.Mask.Width, n = scene.Objects.Count;
        var area = new int[n];
        var (minX, minY, maxX, maxY) = (new int[n], new int[n], new int[n], new int[n]);
        Array.Fill(minX, int.MaxValue);
        Array.Fill(minY, int.MaxValue);
        Array.Fill(maxX, -1);
        Array.Fill(maxY, -1);
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var id = scene.Instances[(y * w) + x] - 1;
                if (id >= 0)
                {
                    area[id]++;
                    minX[id] = Math.Min(minX[id], x);
                    minY[id] = Math.Min(minY[id], y);
                    maxX[id] = Math.Max(maxX[id], x);
                    maxY[id] = Math.Max(maxY[id], y);
                }
            }
        }

        var coordinates = new List<float>(4 * n);
        var labels = new List<int>(n);
        var crowd = new List<bool>(n);
        var areas = new List<float>(n);
        for (var i = 0; i < n; i++)
        {
            if (area[i] == 0)
            {
                continue;
            }

            coordinates.AddRange([minX[i], minY[i], maxX[i] + 1, maxY[i] + 1]);
            labels.Add(scene.Objects[i].Class);

            // Compared in integers, 10 visible < 3 alpha, so no rounding of 0.3 x alpha can move an object across the line.
            crowd.Add(10L * area[i] < 3L * scene.AlphaAreas[i] || area[i] < CrowdMinArea);
            areas.Add(area[i]);
        }

        return new Boxes(h, w, [.. coordinates], [.. labels], [.. crowd], [.. areas]);
    }

    /// <inheritdoc/>
    public override Sample Get(int index)
    {
        var scene = Scene(index);
        return new Sample(scene.Image, BoxesOf(scene), index);
    }
}
