namespace Distill.NN.Data;

/// <summary>Crops the centre (torchvision.transforms.CenterCrop: offsets rounded half to even; zero-padded when larger than the image), and the target alike.</summary>
public sealed class CenterCrop(int height, int width) : ITransform
{
    /// <summary>A square crop.</summary>
    public CenterCrop(int size)
        : this(size, size)
    {
    }

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(target);
        var top = (int)Math.Round((image.Height - height) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((image.Width - width) / 2.0, MidpointRounding.ToEven);
        return (ImageOps.Crop(image, top, left, height, width), target.Crop(top, left, height, width));
    }

    /// <inheritdoc />
    public override string ToString() => TransformDraw.Invariant($"CenterCrop({height}x{width})");
}
