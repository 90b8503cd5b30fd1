using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>Each target kind's collation (class labels Int64 [B], masks Int64 [B, H, W]) and the loader's checks of targets against images.</summary>
public sealed class TargetCollationTests
{
    [Fact]
    public void ClassLabels_CollateToInt64B()
    {
        using var scope = DisposeScope.Enter();
        var batch = ClassLabelCollator.Instance.Gather([new ClassLabel(3), new ClassLabel(0), new ClassLabel(9)]).ToBatch(t => t);
        var labels = Assert.IsType<ClassLabelBatch>(batch).Labels;
        Assert.Equal(DType.Int64, labels.DType);
        Assert.Equal([3L], labels.Shape);
        Assert.Equal([3L, 0, 9], labels.ToArray<long>());
        Assert.Equal(3, batch.Count);
    }

    [Fact]
    public void Masks_CollateToInt64BHW_KeepingIgnore()
    {
        using var scope = DisposeScope.Enter();
        var batch = MaskCollator.Instance.Gather([new Mask(2, 3, [0, 1, 2, 3, 4, Mask.Ignore]), new Mask(2, 3, [5, 5, 5, 6, 6, 6])]).ToBatch(t => t);
        var masks = Assert.IsType<MaskBatch>(batch).Masks;
        Assert.Equal(DType.Int64, masks.DType);
        Assert.Equal([2L, 2, 3], masks.Shape);
        Assert.Equal([0L, 1, 2, 3, 4, 255, 5, 5, 5, 6, 6, 6], masks.ToArray<long>());
    }

    [Fact]
    public void Loader_StacksMasksMovedWithTheirImages_AndMovesThemToTheDevice()
    {
        using var scope = DisposeScope.Enter();
        var data = new MaskedImages(5, (_, h, w) => (h, w));
        var transform = new Compose(new RandomCrop(4, 4, padding: 1), new RandomHorizontalFlip());
        var batches = new DataLoader(data, 2, shuffle: true, seed: 5, transform: transform) { Device = Device.Meta }.Epoch(0).ToList();
        Assert.Equal(3, batches.Count);
        Assert.All(batches, b => Assert.Equal(Device.Meta, Assert.IsType<MaskBatch>(b.Targets).Masks.Device));

        var cpu = new DataLoader(data, 2, shuffle: true, seed: 5, transform: transform).Epoch(0).ToList();
        foreach (var batch in cpu)
        {
            var masks = Assert.IsType<MaskBatch>(batch.Targets).Masks;
            Assert.Equal(DType.Int64, masks.DType);
            Assert.Equal([batch.Size, 4L, 4L], masks.Shape);

            // Channel 0 of each image holds its mask's values (0 where padded, where the mask holds Ignore).
            var images = batch.Images.ToArray<float>();
            var labels = masks.ToArray<long>();
            for (var i = 0; i < labels.Length; i++)
            {
                var pixel = images[((i / 16) * 32) + (i % 16)];
                Assert.Equal(labels[i] == Mask.Ignore ? 0f : labels[i], pixel);
            }

            Assert.Contains("carries masks, not class labels", Assert.Throws<InvalidOperationException>(() => batch.Labels).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void MaskOfAnotherSizeThanItsImage_IsRefusedNamingBothSizes()
    {
        var data = new MaskedImages(4, (index, h, w) => index == 2 ? (h - 1, w + 1) : (h, w));
        var error = Assert.Throws<DataFormatException>(() => new DataLoader(data, 4).Epoch(0).ToList());
        Assert.Equal("data-set index 2: its mask is 3x5 but its image is 4x4 (height x width); a mask labels its image pixel for pixel", error.Message);
    }

    [Fact]
    public void BatchMixingTargetKinds_IsRefusedNamingBothSamples()
    {
        var data = new MaskedImages(3, (_, h, w) => (h, w), classLabelAt: 1);
        var error = Assert.Throws<DataFormatException>(() => new DataLoader(data, 3).Epoch(0).ToList());
        Assert.Equal("data-set index 1 is labelled with a class label but data-set index 0 with a mask; a batch holds one kind of target", error.Message);
    }

    /// <summary>
    /// Two-channel 4x4 images whose channel 0 is the mask's values (index + pixel, below 255); <paramref name="maskSize"/> picks
    /// each mask's size from the index and the image size; one sample may carry a class label instead.
    /// </summary>
    private sealed class MaskedImages(int count, Func<int, int, int, (int Height, int Width)> maskSize, int classLabelAt = -1) : IImageDataset
    {
        public int Count => count;

        public IReadOnlyList<string> Classes { get; } = [.. Enumerable.Range(0, 40).Select(i => $"c{i}")];

        public int LabelOf(int index) => throw new NotSupportedException("a segmentation set has no label per image");

        public Sample Get(int index)
        {
            var (h, w) = maskSize(index, 4, 4);
            var values = Enumerable.Range(0, 16).Select(p => (byte)(index + p)).ToArray();
            var image = new Image(2, 4, 4, [.. values.Select(v => (float)v), .. Enumerable.Repeat(-1f, 16)]);
            if (index == classLabelAt)
            {
                return new Sample(image, 1, index);
            }

            var mask = h * w == 16 ? values : new byte[h * w];
            return new Sample(image, new Mask(h, w, mask), index);
        }
    }
}
