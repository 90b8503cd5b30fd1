using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests.Detection;

/// <summary>Boxes move with their image (crop with clipping and dropping, pad, flip, resize) and collate into a <see cref="BoxBatch"/>.</summary>
public sealed class BoxesTests
{
    // A 20x30 canvas: a box (2, 3)-(12, 8) of label 1, a crowd box (25.5, 0)-(30, 20) of label 0, a box (0, 15)-(4, 20) of label 2.
    private static Boxes Three() => new(20, 30, [2, 3, 12, 8, 25.5f, 0, 30, 20, 0, 15, 4, 20], [1, 0, 2], [false, true, false], [50, 100, 20]);

    [Fact]
    public void Crop_ShiftsAndClipsToTheWindow_DropsBoxesUnder1PixelWideOrHigh_AndScalesClippedAreas()
    {
        // Window rows 4..17, columns 3..25: box 0 is clipped on the left and top, box 1 keeps 0.5 px of width (dropped),
        // box 2 keeps 1 column (3 <= x < 4) and rows 15..17 (kept, exactly 1 px wide).
        var crop = (Boxes)Three().Crop(4, 3, 14, 23);
        Assert.Equal((14, 23), (crop.Height, crop.Width));
        Assert.Equal([0f, 0, 9, 4, 0, 11, 1, 14], crop.Coordinates);
        Assert.Equal([1, 2], crop.Labels);
        Assert.Equal([false, false], crop.Crowd);

        // Area scales with the kept share of the box: box 0 keeps 9x4 of 10x5, box 2 keeps 1x3 of 4x5.
        Assert.Equal([50f * 36 / 50, 20f * 3 / 20], crop.Areas);

        var outside = (Boxes)Three().Crop(0, 0, 2, 2);
        Assert.Equal(0, outside.Count);
        Assert.Empty(outside.Coordinates);
    }

    [Fact]
    public void Crop_ReachingOutsideTheImage_ShiftsBoxesByTheWindowsNegativeOrigin()
    {
        var crop = (Boxes)Three().Crop(-2, -3, 24, 36);
        Assert.Equal([5f, 5, 15, 10, 28.5f, 2, 33, 22, 3, 17, 7, 22], crop.Coordinates);
        Assert.Equal([50f, 100, 20], crop.Areas);
    }

    [Fact]
    public void Pad_ShiftsBoxes_FlipMirrorsThem_ResizeScalesCoordinatesAndAreas()
    {
        var padded = (Boxes)Three().Pad(2, PaddingMode.Reflect);
        Assert.Equal((24, 34), (padded.Height, padded.Width));
        Assert.Equal([4f, 5, 14, 10, 27.5f, 2, 32, 22, 2, 17, 6, 22], padded.Coordinates);

        var flipped = (Boxes)Three().FlipHorizontal();
        Assert.Equal([18f, 3, 28, 8, 0, 0, 4.5f, 20, 26, 15, 30, 20], flipped.Coordinates);
        Assert.Equal(Three().Coordinates, ((Boxes)flipped.FlipHorizontal()).Coordinates);
        Assert.Equal([1, 0, 2], flipped.Labels);

        var resized = (Boxes)Three().Resize(40, 15);
        Assert.Equal((40, 15), (resized.Height, resized.Width));
        Assert.Equal([1f, 6, 6, 16, 12.75f, 0, 15, 40, 0, 30, 2, 40], resized.Coordinates);
        Assert.Equal([50f, 100, 20], resized.Areas);
        var same = Three();
        Assert.Same(same, same.Resize(20, 30));
    }

    [Fact]
    public void Misfit_NamesBothSizes_WhenTheCanvasIsNotTheImage()
    {
        Assert.Null(Three().Misfit(20, 30));
        Assert.Equal("its boxes lie on a 20x30 canvas but its image is 30x20 (height x width); boxes are in their image's pixels", Three().Misfit(30, 20));
    }

    [Fact]
    public void Constructor_RefusesABoxWithX2NotAboveX1_NamingTheObject()
    {
        var e = Assert.Throws<ArgumentException>(() => new Boxes(10, 10, [0, 0, 4, 4, 5, 1, 5, 3], [0, 1], [false, false], [16, 0]));
        Assert.StartsWith("object 1 has box (5, 1, 5, 3); a box needs x2 > x1 and y2 > y1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Collator_MakesPerImageFloat32Boxes_Int64Labels_BoolCrowd_Float32Areas_AndImageSizes()
    {
        using var scope = DisposeScope.Enter();
        var empty = new Boxes(20, 30, [], [], [], []);
        var batch = Assert.IsType<BoxBatch>(BoxCollator.Instance.Gather([Three(), empty]).ToBatch(t => t));
        Assert.Equal(2, batch.Count);
        Assert.Equal("boxes", batch.Kind);
        Assert.Equal(DType.Float32, batch.Boxes[0].DType);
        Assert.Equal([3L, 4], batch.Boxes[0].Shape);
        Assert.Equal(Three().Coordinates, batch.Boxes[0].ToArray<float>());
        Assert.Equal([0L, 4], batch.Boxes[1].Shape);
        Assert.Equal(DType.Int64, batch.Labels[0].DType);
        Assert.Equal([1L, 0, 2], batch.Labels[0].ToArray<long>());
        Assert.Equal(DType.Bool, batch.Crowd[0].DType);
        Assert.Equal([false, true, false], batch.Crowd[0].ToArray<bool>());
        Assert.Equal(DType.Float32, batch.Areas[0].DType);
        Assert.Equal([50f, 100, 20], batch.Areas[0].ToArray<float>());
        Assert.Equal([0L], batch.Labels[1].Shape);
        Assert.Equal([(20, 30), (20, 30)], batch.ImageSizes);
    }

    [Fact]
    public void Loader_FlipsBoxesWithTheirImages_AndMovesThemToTheDevice()
    {
        using var scope = DisposeScope.Enter();
        var data = new BoxedImages(6);
        var transform = new RandomHorizontalFlip();
        var meta = new DataLoader(data, 4, shuffle: true, seed: 3, transform: transform) { Device = Device.Meta }.Epoch(0).ToList();
        Assert.All(meta, b => Assert.All(Assert.IsType<BoxBatch>(b.Targets).Boxes, t => Assert.Equal(Device.Meta, t.Device)));

        foreach (var batch in new DataLoader(data, 4, shuffle: true, seed: 3, transform: transform).Epoch(0))
        {
            var boxes = Assert.IsType<BoxBatch>(batch.Targets);
            var images = batch.Images.ToArray<float>();
            for (var i = 0; i < batch.Size; i++)
            {
                // Each image is 1 inside its one box and 0 elsewhere: the flipped box still covers exactly its pixels.
                var (x1, y1, x2, y2) = ((int)boxes.Boxes[i].ToArray<float>()[0], (int)boxes.Boxes[i].ToArray<float>()[1], (int)boxes.Boxes[i].ToArray<float>()[2], (int)boxes.Boxes[i].ToArray<float>()[3]);
                for (var y = 0; y < 8; y++)
                {
                    for (var x = 0; x < 10; x++)
                    {
                        Assert.Equal(x >= x1 && x < x2 && y >= y1 && y < y2 ? 1f : 0f, images[(i * 80) + (y * 10) + x]);
                    }
                }
            }
        }
    }

    /// <summary>8x10 grey images, image i is 1 inside the box (i, 1)-(i + 3, 5) of label i % 3.</summary>
    private sealed class BoxedImages(int count) : IImageDataset
    {
        public int Count => count;

        public IReadOnlyList<string> Classes => ["a", "b", "c"];

        public int LabelOf(int index) => throw new NotSupportedException();

        public Sample Get(int index)
        {
            var pixels = new float[80];
            for (var y = 1; y < 5; y++)
            {
                for (var x = index; x < index + 3; x++)
                {
                    pixels[(y * 10) + x] = 1;
                }
            }

            return new Sample(new Image(1, 8, 10, pixels), new Boxes(8, 10, [index, 1, index + 3, 5], [index % 3], [false], [12]), index);
        }
    }
}
