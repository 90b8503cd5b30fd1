using Distill.NN.Data;
using Xunit;

namespace Distill.NN.Tests.Segmentation;

/// <summary>Joint transforms for segmentation: random scale (bilinear image, nearest mask), pad-to-crop-size, normalise.</summary>
public sealed class SegmentationTransformTests
{
    private static readonly byte[] LabelSet = [0, 3, 7, Mask.Ignore];

    // 12 x 16 in 4 x 4 blocks of one label each; the image shows the label value.
    private static (Image Image, Mask Mask) Blocks()
    {
        const int h = 12, w = 16;
        var labels = new byte[h * w];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                labels[(y * w) + x] = LabelSet[((y / 4) + (x / 4)) % LabelSet.Length];
            }
        }

        return (new Image(1, h, w, labels.Select(v => (float)v).ToArray()), new Mask(h, w, labels));
    }

    [Fact]
    public void RandomScale_ImageAndMaskGetTheSameRoundedSize_AndTheMaskKeepsItsLabelSet()
    {
        var (image, mask) = Blocks();
        var transform = new RandomScale(0.5, 2.0);
        for (var seed = 0; seed < 30; seed++)
        {
            var ratio = transform.DrawRatio(new Random(seed));
            Assert.InRange(ratio, 0.5, 2.0);
            var (scaled, target) = transform.Apply(image, mask, new Random(seed));
            var m = Assert.IsType<Mask>(target);
            Assert.Equal(((int)((12 * ratio) + 0.5), (int)((16 * ratio) + 0.5)), (scaled.Height, scaled.Width));
            Assert.Equal((scaled.Height, scaled.Width), (m.Height, m.Width));
            Assert.All(m.Data, v => Assert.Contains(v, LabelSet));

            // Nearest keeps labels where they were: each mask pixel is the label of the block its source pixel lies in,
            // and there the bilinear image, away from block edges, shows the same value.
            for (var y = 0; y < m.Height; y++)
            {
                for (var x = 0; x < m.Width; x++)
                {
                    var sy = Math.Min((int)MathF.Floor(y * (12f / m.Height)), 11);
                    var sx = Math.Min((int)MathF.Floor(x * (16f / m.Width)), 15);
                    Assert.Equal(mask[sy, sx], m[y, x]);
                }
            }
        }
    }

    [Fact]
    public void RandomScale_Doubling_LeavesBlockInteriorsOfImageAndMaskEqual()
    {
        var (image, mask) = Blocks();
        var (scaled, target) = new RandomScale(2.0, 2.0).Apply(image, mask, new Random(0));
        var m = (Mask)target;
        Assert.Equal((24, 32), (m.Height, m.Width));
        for (var y = 0; y < 24; y++)
        {
            for (var x = 0; x < 32; x++)
            {
                // Output pixels whose bilinear source stays inside one source block: (o + 0.5) / 2 - 0.5 and the next pixel.
                if (y % 8 is >= 1 and <= 6 && x % 8 is >= 1 and <= 6)
                {
                    Assert.Equal(m[y, x], scaled[0, y, x]);
                }
            }
        }
    }

    [Fact]
    public void RandomScale_SteppedForm_DrawsTheFifteenRatiosOfStructuredKd()
    {
        var transform = RandomScale.Stepped();
        var random = new Random(1);
        var seen = Enumerable.Range(0, 3000).Select(_ => Math.Round(transform.DrawRatio(random), 6)).Distinct().Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 15).Select(k => Math.Round(0.7 + (k / 10.0), 6)), seen);
    }

    [Fact]
    public void RandomCropWithPadIfNeeded_PadsImageWithZeroAndMaskWithIgnore_AtBottomAndRight()
    {
        var image = new Image(1, 2, 3, [1, 2, 3, 4, 5, 6]);
        var mask = new Mask(2, 3, [1, 2, 3, 4, 5, 6]);
        var crop = new RandomCrop(3, 4, padding: 0) { PadIfNeeded = true };
        var (cropped, target) = crop.Apply(image, mask, new Random(0));
        const byte I = Mask.Ignore;
        Assert.Equal([1, 2, 3, I, 4, 5, 6, I, I, I, I, I], ((Mask)target).Data);
        Assert.Equal([1f, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0], cropped.Data);

        Assert.Throws<ArgumentException>(() => new RandomCrop(3, 4, padding: 0).Apply(image, mask, new Random(0)));
    }

    [Fact]
    public void RandomCropWithPadIfNeeded_OnALargerSide_StillDrawsItsOffset()
    {
        var image = new Image(1, 2, 8, Enumerable.Range(0, 16).Select(v => (float)v).ToArray());
        var mask = new Mask(2, 8, Enumerable.Range(0, 16).Select(v => (byte)v).ToArray());
        var lefts = new HashSet<int>();
        for (var seed = 0; seed < 50; seed++)
        {
            var (cropped, target) = new RandomCrop(3, 4, padding: 0) { PadIfNeeded = true }.Apply(image, mask, new Random(seed));
            var m = (Mask)target;
            lefts.Add(m[0, 0]);
            Assert.All(Enumerable.Range(0, 4), x => Assert.True(I(m[2, x])));
            Assert.Equal(m.Data.Take(8).Select(v => (float)v), cropped.Data.Take(8));
        }

        Assert.Equal(5, lefts.Count);

        static bool I(byte v) => v == Mask.Ignore;
    }

    [Fact]
    public void RandomCropWithCategoryMaxRatio_RedrawsWindowsThatOneClassDominates()
    {
        // 4 x 8: columns 0-1 class 1, columns 2-7 class 0. Of the five 4 x 4 windows only left = 0 mixes the classes
        // below 0.75 (left = 1 is exactly 0.75: refused, as max / sum < ratio is required); the others are one class.
        var labels = Enumerable.Range(0, 32).Select(i => (byte)(i % 8 < 2 ? 1 : 0)).ToArray();
        var image = new Image(1, 4, 8, labels.Select(v => (float)v).ToArray());
        var mask = new Mask(4, 8, labels);
        var plain = new RandomCrop(4, 4, padding: 0);
        var balanced = new RandomCrop(4, 4, padding: 0) { CategoryMaxRatio = 0.75 };
        int plainHits = 0, balancedHits = 0;
        for (var seed = 0; seed < 300; seed++)
        {
            var p = (Mask)plain.Apply(image, mask, new Random(seed)).Target;
            plainHits += p[0, 0] == 1 && p[0, 1] == 1 ? 1 : 0;
            var (cropped, target) = balanced.Apply(image, mask, new Random(seed));
            var m = (Mask)target;
            balancedHits += m[0, 0] == 1 && m[0, 1] == 1 ? 1 : 0;
            Assert.Equal(m.Data.Select(v => (float)v), cropped.Data);

            // A class label has no classes to balance: the same draws as without the option.
            Assert.Equal(plain.Apply(image, new Random(seed)).Data, balanced.Apply(image, new Random(seed)).Data);
        }

        // Uniform: 1 window in 5 is the mixed one; with ten checks all but (4/5)^10 = 11 % of draws end there (plus a fifth of those).
        Assert.InRange(plainHits, 30, 90);
        Assert.InRange(balancedHits, 240, 300);
    }

    [Fact]
    public void NormalizePerChannel_LeavesTheMask()
    {
        var image = new Image(2, 1, 2, [0.5f, 1f, 0.2f, 0.4f]);
        var mask = new Mask(1, 2, [1, 255]);
        var (normalized, target) = new Normalize([0.5, 0.2], [0.5, 0.1]).Apply(image, mask, new Random(0));
        Assert.Same(mask, target);
        Assert.Equal([0f, 1f, 0f, 2f], normalized.Data.Select(v => MathF.Round(v, 5)));
    }
}
