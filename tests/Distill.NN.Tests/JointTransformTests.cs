using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>Transforms move a target with its image: a mask pixel for pixel (expected values worked out by hand), a class label not at all.</summary>
public sealed class JointTransformTests
{
    [Fact]
    public void CenterCropThenFlip_MovesTheMaskWithTheImage_PixelExact()
    {
        // CenterCrop(2, 3) of 3x4: offsets round(0.5) = 0 (half to even), so rows 0-1, columns 0-2; the flip reverses each row.
        var (image, mask) = new Compose(new CenterCrop(2, 3), new RandomHorizontalFlip(1.0)).Apply(SourceImage(), SourceMask(), new Random(0));
        Assert.Equal([2f, 1, 0, 12, 11, 10], image.Data);
        var moved = Assert.IsType<Mask>(mask);
        Assert.Equal((2, 3), (moved.Height, moved.Width));
        Assert.Equal([2, 1, 0, 12, 11, 10], moved.Data);
    }

    [Fact]
    public void PaddedRandomCropThenFlip_PadsTheMaskWithIgnore_PixelExact()
    {
        // A 5x6 crop of the 3x4 image padded by 1 has one window (top = left = 0): the padded image itself, then mirrored.
        var (image, mask) = new Compose(new RandomCrop(5, 6, padding: 1), new RandomHorizontalFlip(1.0)).Apply(SourceImage(), SourceMask(), new Random(3));
        const byte I = Mask.Ignore;
        byte[] expected =
        [
            I, I, I, I, I, I,
            I, 3, 2, 1, 0, I,
            I, 13, 12, 11, 10, I,
            I, 23, 22, 21, 20, I,
            I, I, I, I, I, I,
        ];
        Assert.Equal(expected, ((Mask)mask).Data);
        Assert.Equal(expected.Select(v => v == I ? 0f : v), image.Data);
    }

    [Fact]
    public void RandomCropAndFlip_DrawTheSameWindowForAMask_AClassLabel_AndNoTarget()
    {
        var transform = new Compose(new RandomCrop(3, 3, padding: 2), new RandomHorizontalFlip());
        for (var seed = 0; seed < 40; seed++)
        {
            var (image, mask) = transform.Apply(SourceImage(), SourceMask(), new Random(seed));
            var (labelled, label) = transform.Apply(SourceImage(), new ClassLabel(7), new Random(seed));
            Assert.Equal(transform.Apply(SourceImage(), new Random(seed)).Data, image.Data);
            Assert.Equal(image.Data, labelled.Data);
            Assert.Equal(new ClassLabel(7), label);

            // Every mask pixel is its image pixel's value, or Ignore where the image is padding (fill 0).
            var m = (Mask)mask;
            Assert.Equal((image.Height, image.Width), (m.Height, m.Width));
            Assert.All(Enumerable.Range(0, m.Data.Length), i => Assert.Equal(m.Data[i] == Mask.Ignore ? 0f : m.Data[i], image.Data[i]));
        }
    }

    [Fact]
    public void ReflectPadding_MirrorsTheMaskAsItMirrorsTheImage()
    {
        var (image, mask) = new RandomCrop(5, 6, padding: 1, paddingMode: PaddingMode.Reflect).Apply(SourceImage(), SourceMask(), new Random(0));
        Assert.Equal(image.Data, ((Mask)mask).Data.Select(v => (float)v));
        Assert.Equal([11, 10, 11, 12, 13, 12], ((Mask)mask).Data.Take(6));
    }

    [Fact]
    public void Resize_TakesTheNearestMaskPixel_AsPyTorchsNearestInterpolation()
    {
        // interpolate(mode="nearest") reads source floor(dst * in / out): rows 3 -> 5 read 0 0 1 1 2, columns 4 -> 6 read 0 0 1 2 2 3.
        var (image, mask) = new Resize(5, 6).Apply(SourceImage(), SourceMask(), new Random(0));
        int[] rows = [0, 0, 1, 1, 2];
        int[] columns = [0, 0, 1, 2, 2, 3];
        Assert.Equal((5, 6), (image.Height, image.Width));
        Assert.Equal(rows.SelectMany(y => columns.Select(x => (byte)((10 * y) + x))), ((Mask)mask).Data);
    }

    [Fact]
    public void RandomResizedCrop_GivesAMaskOfTheOutputSize_WithOnlyTheSourceClasses()
    {
        var source = SourceMask();
        for (var seed = 0; seed < 20; seed++)
        {
            var (image, mask) = new RandomResizedCrop(4, 5, minScale: 0.3).Apply(SourceImage(), source, new Random(seed));
            var m = (Mask)mask;
            Assert.Equal((4, 5, 4, 5), (image.Height, image.Width, m.Height, m.Width));
            Assert.All(m.Data, v => Assert.Contains(v, source.Data));
        }
    }

    [Fact]
    public void Normalize_PassesTheTargetThrough()
    {
        var mask = SourceMask();
        var image = new Image(1, 3, 4, new float[12]);
        Assert.Same(mask, new Normalize([0.5], [0.25]).Apply(image, mask, new Random(0)).Target);
    }

    [Fact]
    public void Mask_OfTheWrongLength_IsRefusedWithItsSize() =>
        Assert.Contains("2x3 needs 6 values; got 5", Assert.Throws<ArgumentException>(() => new Mask(2, 3, new byte[5])).Message, StringComparison.Ordinal);

    /// <summary>One channel, 3x4, pixel (y, x) = 10 y + x.</summary>
    private static Image SourceImage() => new(1, 3, 4, [.. Enumerable.Range(0, 12).Select(i => (float)((10 * (i / 4)) + (i % 4)))]);

    /// <summary>The same numbers as <see cref="SourceImage"/> as a mask.</summary>
    private static Mask SourceMask() => new(3, 4, [.. Enumerable.Range(0, 12).Select(i => (byte)((10 * (i / 4)) + (i % 4)))]);
}
