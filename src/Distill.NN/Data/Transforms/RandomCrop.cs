using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// Pads, then crops a random window (torchvision.transforms.RandomCrop; CIFAR recipes: 32 with padding 4); the target is
/// padded and cropped alike (a mask's constant padding is <see cref="Mask.Ignore"/>, not the image's fill). With
/// <see cref="PadIfNeeded"/> an image smaller than the crop is first padded at the bottom and right to the crop size
/// (image with the fill, a mask with <see cref="Mask.Ignore"/>), as the segmentation recipes do. With
/// <see cref="CategoryMaxRatio"/> below 1 a mask's window is drawn again when one class covers too much of it.
/// </summary>
public sealed class RandomCrop(int height, int width, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant, float fill = 0) : IRandomTransform
{
    /// <summary>A square crop.</summary>
    public RandomCrop(int size, int padding = 0, PaddingMode paddingMode = PaddingMode.Constant)
        : this(size, size, padding, paddingMode)
    {
    }

    /// <summary>Pad at the bottom and right to the crop size when the (padded) image is smaller, instead of refusing it.</summary>
    public bool PadIfNeeded { get; init; }

    /// <summary>
    /// mmsegmentation's cat_max_ratio (0.75 in its recipes; 1 turns it off): while the window's mask has fewer than two
    /// classes or one class covers this share or more of its non-ignored pixels, the window is drawn again, up to ten
    /// checks, the window after the tenth failed check taken as it is. Only a <see cref="Mask"/> target is checked, so
    /// with it on, the draws depend on the mask.
    /// </summary>
    public double CategoryMaxRatio { get; init; } = 1.0;

    /// <inheritdoc />
    public IReadOnlyList<string> ParameterNames { get; } = ["top", "left"];

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random) => Replay(image, target, Draw(image, target, random));

    /// <inheritdoc />
    /// <remarks>With <see cref="CategoryMaxRatio"/> below 1 and a mask target, the window depends on the mask.</remarks>
    public double[] Draw(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(random);
        var (paddedHeight, paddedWidth) = (image.Height + (2 * padding), image.Width + (2 * padding));
        if (!PadIfNeeded && (paddedHeight < height || paddedWidth < width))
        {
            throw new ArgumentException($"RandomCrop of {height}x{width} is larger than the padded image {paddedHeight}x{paddedWidth}; set PadIfNeeded to pad it to the crop size");
        }

        var (top, left) = Draw(paddedHeight, paddedWidth, random);
        if (CategoryMaxRatio < 1 && (padding > 0 ? target.Pad(padding, paddingMode) : target) is Mask mask)
        {
            for (var check = 0; check < 10 && !Balanced(mask, top, left); check++)
            {
                (top, left) = Draw(paddedHeight, paddedWidth, random);
            }
        }

        return [top, left];
    }

    /// <inheritdoc />
    public (Image Image, ITarget Target) Replay(Image image, ITarget target, ReadOnlySpan<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(target);
        TransformDraw.CheckCount(this, parameters);
        var padded = padding > 0 ? ImageOps.Pad(image, padding, paddingMode, fill) : image;
        var paddedTarget = padding > 0 ? target.Pad(padding, paddingMode) : target;
        var (top, left) = ((int)parameters[0], (int)parameters[1]);
        return (ImageOps.Crop(padded, top, left, height, width, fill), paddedTarget.Crop(top, left, height, width));
    }

    /// <inheritdoc />
    public override string ToString() =>
        TransformDraw.Invariant($"RandomCrop({height}x{width}, padding={padding}, {paddingMode}, fill={fill:R}, pad_if_needed={PadIfNeeded}, cat_max_ratio={CategoryMaxRatio:R})");

    private (int Top, int Left) Draw(int paddedHeight, int paddedWidth, Random random) =>
        (random.Next(0, Math.Max(paddedHeight - height, 0) + 1), random.Next(0, Math.Max(paddedWidth - width, 0) + 1));

    private bool Balanced(Mask mask, int top, int left)
    {
        Span<int> counts = stackalloc int[256];
        for (var y = Math.Max(top, 0); y < Math.Min(top + height, mask.Height); y++)
        {
            for (var x = Math.Max(left, 0); x < Math.Min(left + width, mask.Width); x++)
            {
                counts[mask[y, x]]++;
            }
        }

        counts[Mask.Ignore] = 0;
        int classes = 0, total = 0, largest = 0;
        foreach (var c in counts)
        {
            classes += c > 0 ? 1 : 0;
            total += c;
            largest = Math.Max(largest, c);
        }

        return classes > 1 && largest < CategoryMaxRatio * total;
    }
}
