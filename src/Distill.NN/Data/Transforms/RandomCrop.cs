using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// Pads, then crops a random window (torchvision.transforms.RandomCrop; CIFAR recipes: 32 with padding 4); the target is
/// padded and cropped alike (a mask's constant padding is <see cref="Mask.Ignore"/>, not the image's fill). With
/// <see cref="PadIfNeeded"/> an image smaller than the crop is first padded at the bottom and right to the crop size
/// (image with the fill, a mask with <see cref="Mask.Ignore"/>), as the segmentation recipes do.
/// </summary>
public sealed class RandomCrop(int height, int width, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant, float fill = 0) : ITransform
{
    /// <summary>A square crop.</summary>
    public RandomCrop(int size, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant)
        : this(size, size, padding, paddingMode)
    {
    }

    /// <summary>Pad at the bottom and right to the crop size when the (padded) image is smaller, instead of refusing it.</summary>
    public bool PadIfNeeded { get; init; }

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(random);
        var padded = padding > 0 ? ImageOps.Pad(image, padding, paddingMode, fill) : image;
        if (!PadIfNeeded && (padded.Height < height || padded.Width < width))
        {
            throw new ArgumentException($"RandomCrop of {height}x{width} is larger than the padded image {padded.Height}x{padded.Width}; set PadIfNeeded to pad it to the crop size");
        }

        var top = random.Next(0, Math.Max(padded.Height - height, 0) + 1);
        var left = random.Next(0, Math.Max(padded.Width - width, 0) + 1);
        var paddedTarget = padding > 0 ? target.Pad(padding, paddingMode) : target;
        return (ImageOps.Crop(padded, top, left, height, width, fill), paddedTarget.Crop(top, left, height, width));
    }
}
