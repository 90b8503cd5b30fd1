namespace Distill.NN.Data;

/// <summary>Bilinear resize (torchvision.transforms.Resize on tensors without antialias): to height x width, or the shorter side to a size; the target alike (a mask by nearest pixel).</summary>
public sealed class Resize : ITransform
{
    private readonly int _height;
    private readonly int _width;
    private readonly bool _shorterSide;

    /// <summary>Resizes to exactly height x width.</summary>
    public Resize(int height, int width)
    {
        _height = height;
        _width = width;
    }

    /// <summary>Resizes the shorter side to <paramref name="size"/>, keeping the aspect ratio (the longer side truncated as torchvision does).</summary>
    public Resize(int size)
    {
        _height = size;
        _width = size;
        _shorterSide = true;
    }

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(target);
        if (!_shorterSide)
        {
            return (ImageOps.ResizeBilinear(image, _height, _width), target.Resize(_height, _width));
        }

        var (h, w) = image.Height <= image.Width
            ? (_height, (int)((long)_height * image.Width / image.Height))
            : ((int)((long)_height * image.Height / image.Width), _height);
        return h == image.Height && w == image.Width ? (image, target) : (ImageOps.ResizeBilinear(image, h, w), target.Resize(h, w));
    }

    /// <inheritdoc />
    public override string ToString() => _shorterSide ? TransformDraw.Invariant($"Resize(shorter={_height})") : TransformDraw.Invariant($"Resize({_height}x{_width})");
}
