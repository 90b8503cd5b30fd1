using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// Pads, then crops a random window (torchvision.transforms.RandomCrop; CIFAR recipes: 32 with padding 4); the target is
/// padded and cropped alike (a mask's constant padding is <see cref="Mask.Ignore"/>, not the image's fill).
/// </summary>
public sealed class RandomCrop(int height, int width, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant, float fill = 0) : ITransform
{
    /// <summary>A square crop.</summary>
    public RandomCrop(int size, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant)
        : this(size, size, padding, paddingMode)
    {
    }

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(random);
        var padded = padding > 0 ? ImageOps.Pad(image, padding, paddingMode, fill) : image;
        if (padded.Height < height || padded.Width < width)
        {
            throw new ArgumentException($"RandomCrop of {height}x{width} is larger than the padded image {padded.Height}x{padded.Width}");
        }

        var top = random.Next(0, padded.Height - height + 1);
        var left = random.Next(0, padded.Width - width + 1);
        var paddedTarget = padding > 0 ? target.Pad(padding, paddingMode) : target;
        return (ImageOps.Crop(padded, top, left, height, width), paddedTarget.Crop(top, left, height, width));
    }
}
