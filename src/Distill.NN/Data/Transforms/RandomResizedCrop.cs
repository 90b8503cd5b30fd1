namespace Distill.NN.Data;

/// <summary>
/// A random area and aspect ratio crop resized to a fixed size (torchvision.transforms.RandomResizedCrop,
/// its 10-try sampling and centre fallback; bilinear without antialias); the target is cropped and resized alike.
/// </summary>
public sealed class RandomResizedCrop(int height, int width, double minScale = 0.08, double maxScale = 1.0, double minRatio = 3.0 / 4, double maxRatio = 4.0 / 3) : IRandomTransform
{
    /// <summary>A square output.</summary>
    public RandomResizedCrop(int size)
        : this(size, size)
    {
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ParameterNames { get; } = ["top", "left", "height", "width"];

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random) => Replay(image, target, Draw(image, target, random));

    /// <inheritdoc />
    public double[] Draw(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        var (top, left, h, w) = Window(image.Height, image.Width, random);
        return [top, left, h, w];
    }

    /// <inheritdoc />
    public (Image Image, ITarget Target) Replay(Image image, ITarget target, ReadOnlySpan<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(target);
        TransformDraw.CheckCount(this, parameters);
        var (top, left, h, w) = ((int)parameters[0], (int)parameters[1], (int)parameters[2], (int)parameters[3]);
        return (ImageOps.ResizeBilinear(ImageOps.Crop(image, top, left, h, w), height, width), target.Crop(top, left, h, w).Resize(height, width));
    }

    /// <inheritdoc />
    public override string ToString() =>
        TransformDraw.Invariant($"RandomResizedCrop({height}x{width}, scale=[{minScale:R}, {maxScale:R}], ratio=[{minRatio:R}, {maxRatio:R}])");

    private (int Top, int Left, int Height, int Width) Window(int imageHeight, int imageWidth, Random random)
    {
        double area = imageHeight * imageWidth;
        var logMin = Math.Log(minRatio);
        var logMax = Math.Log(maxRatio);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var targetArea = area * (minScale + ((maxScale - minScale) * random.NextDouble()));
            var aspect = Math.Exp(logMin + ((logMax - logMin) * random.NextDouble()));
            var w = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            var h = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight)
            {
                return (random.Next(0, imageHeight - h + 1), random.Next(0, imageWidth - w + 1), h, w);
            }
        }

        double ratio = (double)imageWidth / imageHeight;
        int cw, ch;
        if (ratio < minRatio)
        {
            cw = imageWidth;
            ch = (int)Math.Round(cw / minRatio, MidpointRounding.ToEven);
        }
        else if (ratio > maxRatio)
        {
            ch = imageHeight;
            cw = (int)Math.Round(ch * maxRatio, MidpointRounding.ToEven);
        }
        else
        {
            cw = imageWidth;
            ch = imageHeight;
        }

        return ((imageHeight - ch) / 2, (imageWidth - cw) / 2, ch, cw);
    }
}
