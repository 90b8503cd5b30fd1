using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>Pads, then crops a random window (torchvision.transforms.RandomCrop; CIFAR recipes: 32 with padding 4).</summary>
public sealed class RandomCrop(int height, int width, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant, float fill = 0) : ITransform
{
    /// <summary>A square crop.</summary>
    public RandomCrop(int size, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant)
        : this(size, size, padding, paddingMode)
    {
    }

    /// <inheritdoc />
    public Image Apply(Image image, Random random)
    {
        var padded = padding > 0 ? ImageOps.Pad(image, padding, paddingMode, fill) : image;
        if (padded.Height < height || padded.Width < width)
        {
            throw new ArgumentException($"RandomCrop of {height}x{width} is larger than the padded image {padded.Height}x{padded.Width}");
        }

        var top = random.Next(0, padded.Height - height + 1);
        var left = random.Next(0, padded.Width - width + 1);
        return ImageOps.Crop(padded, top, left, height, width);
    }
}
