using Distill.Torch;

namespace Distill.NN.Data.Scenes;

/// <summary>
/// Draws one scene of docs/data/scenes.md from its own libtorch CPU generator (mt19937, the algorithm PyTorch's
/// <c>torch.Generator().manual_seed(s)</c> uses, unlike <see cref="System.Random"/> whose algorithm .NET does not promise),
/// seeded with <c>base · 1 000 003 + split · 100 000 + index</c>, so a scene depends only on (base seed, split, index).
/// Every scalar draw is a one-element tensor (<c>torch.rand(1)</c>, <c>torch.randint(lo, hi, (1,))</c>), in the order:
/// background level, noise H×W, object count, then per object and attempt glyph, side, y, x.
/// </summary>
public static class SceneGenerator
{
    /// <summary>The seed of scene <paramref name="index"/> of <paramref name="split"/>.</summary>
    public static ulong SeedOf(ulong baseSeed, SceneSplit split, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, 100_000);
        return unchecked((baseSeed * 1_000_003UL) + ((ulong)split * 100_000UL) + (ulong)index);
    }

    /// <summary>Generates one scene.</summary>
    /// <param name="glyphs">The split's glyph pool (28×28 grey images with Fashion-MNIST class labels).</param>
    /// <param name="seed">The scene's seed (<see cref="SeedOf"/>).</param>
    /// <param name="options">The generator knobs.</param>
    public static Scene Generate(GlyphPool glyphs, ulong seed, SceneOptions options)
    {
        ArgumentNullException.ThrowIfNull(glyphs);
        ArgumentNullException.ThrowIfNull(options);
        int h = options.Height, w = options.Width;
        using var scope = DisposeScope.Enter();
        using var generator = new Generator(seed);

        var level = options.BackgroundLevel * Tensor.Rand([1], generator: generator).Item<float>();
        var canvas = Tensor.Randn([h, w], generator: generator).ToArray<float>();
        for (var i = 0; i < canvas.Length; i++)
        {
            canvas[i] = Math.Clamp(level + (options.NoiseSigma * canvas[i]), 0f, 1f);
        }

        var requested = (int)Draw(generator, options.MinObjects, options.MaxObjects + 1);
        var objects = new List<SceneObject>(requested);
        for (var k = 0; k < requested; k++)
        {
            for (var attempt = 0; attempt < options.Attempts; attempt++)
            {
                var g = (int)Draw(generator, 0, glyphs.Count);
                var s = (int)Draw(generator, options.MinSide, options.MaxSide + 1);
                var y = (int)Draw(generator, 0, h - s + 1);
                var x = (int)Draw(generator, 0, w - s + 1);
                if (objects.TrueForAll(o => BoxIoU(o.Y, o.X, o.Side, y, x, s) <= options.MaxOverlap))
                {
                    objects.Add(new SceneObject(g, glyphs.ClassOf(g), s, y, x));
                    break;
                }
            }
        }

        var mask = new byte[h * w];
        var instances = new byte[h * w];
        var alphaAreas = new int[objects.Count];
        for (var n = 0; n < objects.Count; n++)
        {
            var o = objects[n];
            var glyph = Resize(glyphs.Glyph(o.Glyph), o.Side);
            for (var dy = 0; dy < o.Side; dy++)
            {
                for (var dx = 0; dx < o.Side; dx++)
                {
                    var v = glyph[(dy * o.Side) + dx];
                    if (v > options.AlphaThreshold)
                    {
                        var p = ((o.Y + dy) * w) + o.X + dx;
                        canvas[p] = v;
                        mask[p] = (byte)(o.Class + 1);
                        instances[p] = (byte)(n + 1);
                        alphaAreas[n]++;
                    }
                }
            }
        }

        if (options.IgnoreRim)
        {
            MarkRim(mask, instances, h, w);
        }

        var pixels = canvas;
        if (options.Channels == 3)
        {
            pixels = new float[3 * canvas.Length];
            for (var c = 0; c < 3; c++)
            {
                canvas.CopyTo(pixels, c * canvas.Length);
            }
        }

        return new Scene(new Image(options.Channels, h, w, pixels), new Mask(h, w, mask), instances, objects, requested, alphaAreas);
    }

    /// <summary>IoU of two axis-aligned squares given by top, left and side.</summary>
    public static double BoxIoU(int y1, int x1, int s1, int y2, int x2, int s2)
    {
        var ih = Math.Max(0, Math.Min(y1 + s1, y2 + s2) - Math.Max(y1, y2));
        var iw = Math.Max(0, Math.Min(x1 + s1, x2 + s2) - Math.Max(x1, x2));
        double inter = (long)ih * iw;
        return inter / (((long)s1 * s1) + ((long)s2 * s2) - inter);
    }

    /// <summary>A glyph resized to side × side with bilinear, align_corners=False (libtorch interpolate).</summary>
    internal static float[] Resize(float[] glyph, int side)
    {
        var n = (int)Math.Sqrt(glyph.Length);
        using var input = Tensor.From(glyph, 1, 1, n, n);
        using var resized = Functional.Interpolate(input, side, side, InterpolationMode.Bilinear, alignCorners: false);
        return resized.ToArray<float>();
    }

    private static void MarkRim(byte[] mask, byte[] instances, int h, int w)
    {
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var p = (y * w) + x;
                var id = instances[p];
                if (id != 0 && ((y > 0 && instances[p - w] != id) || (y < h - 1 && instances[p + w] != id)
                    || (x > 0 && instances[p - 1] != id) || (x < w - 1 && instances[p + 1] != id)))
                {
                    mask[p] = Mask.Ignore;
                }
            }
        }
    }

    private static long Draw(Generator generator, long low, long high)
    {
        using var t = Tensor.RandInt(low, high, [1], generator: generator);
        return t.Item<long>();
    }
}
