using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// The objects of one image for detection: per object a box (x1, y1, x2, y2) in continuous pixel coordinates (an object
/// covering columns 3..5 has x1 = 3, x2 = 6), a contiguous class label, a crowd flag (an ignore region, COCO's iscrowd or
/// VOC's difficult) and an area (COCO's area field, or w x h), plus the size of the canvas they lie on, as torchvision's
/// BoundingBoxes keeps canvas_size. The boxes move with their image:
/// <list type="bullet">
/// <item>a crop shifts them to the window and clips them to it; a box whose clipped width or height is under 1 pixel
/// (which includes a box left with no area, wholly outside the window) is dropped with its label, flag and area; a
/// clipped box keeps the share of its area that its clipped box keeps of its box;</item>
/// <item>padding shifts them (reflected padding shows mirrored copies of objects, which stay unlabelled);</item>
/// <item>a flip mirrors them (x1 becomes W - x2); a resize scales the coordinates and the areas by the two ratios.</item>
/// </list>
/// A batch of boxes is a <see cref="BoxBatch"/> (one entry per image, as images hold different numbers of objects).
/// </summary>
public sealed class Boxes : ITarget
{
    /// <summary>Creates the boxes of an image of <paramref name="height"/> x <paramref name="width"/> pixels (the arrays are not copied).</summary>
    /// <param name="height">The canvas height.</param>
    /// <param name="width">The canvas width.</param>
    /// <param name="coordinates">x1, y1, x2, y2 per object (4 N values).</param>
    /// <param name="labels">The class per object (N values, 0 and up).</param>
    /// <param name="crowd">Whether each object is an ignore region (N values).</param>
    /// <param name="areas">The area per object (N values).</param>
    /// <exception cref="ArgumentException">The lengths disagree, a label is negative, or a box has x2 &lt;= x1 or y2 &lt;= y1.</exception>
    public Boxes(int height, int width, float[] coordinates, int[] labels, bool[] crowd, float[] areas)
    {
        ArgumentNullException.ThrowIfNull(coordinates);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(crowd);
        ArgumentNullException.ThrowIfNull(areas);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if (coordinates.Length != 4 * labels.Length || crowd.Length != labels.Length || areas.Length != labels.Length)
        {
            throw new ArgumentException(
                $"{labels.Length} labels need {4 * labels.Length} coordinates, {labels.Length} crowd flags and {labels.Length} areas; got {coordinates.Length}, {crowd.Length} and {areas.Length}",
                nameof(coordinates));
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0)
            {
                throw new ArgumentException($"object {i} has label {labels[i]}; labels are 0 and up", nameof(labels));
            }

            if (!(coordinates[(4 * i) + 2] > coordinates[4 * i]) || !(coordinates[(4 * i) + 3] > coordinates[(4 * i) + 1]))
            {
                throw new ArgumentException(
                    $"object {i} has box ({coordinates[4 * i]}, {coordinates[(4 * i) + 1]}, {coordinates[(4 * i) + 2]}, {coordinates[(4 * i) + 3]}); a box needs x2 > x1 and y2 > y1",
                    nameof(coordinates));
            }
        }

        Height = height;
        Width = width;
        Coordinates = coordinates;
        Labels = labels;
        Crowd = crowd;
        Areas = areas;
    }

    /// <summary>The canvas height in pixels.</summary>
    public int Height { get; }

    /// <summary>The canvas width in pixels.</summary>
    public int Width { get; }

    /// <summary>Number of objects.</summary>
    public int Count => Labels.Count;

    /// <summary>x1, y1, x2, y2 per object, object after object.</summary>
    public IReadOnlyList<float> Coordinates { get; }

    /// <summary>The class per object.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Whether each object is an ignore region.</summary>
    public IReadOnlyList<bool> Crowd { get; }

    /// <summary>The area per object.</summary>
    public IReadOnlyList<float> Areas { get; }

    /// <inheritdoc />
    public string Kind => "boxes";

    /// <inheritdoc />
    public ITargetCollator Collator => BoxCollator.Instance;

    /// <summary>Object <paramref name="index"/>'s box.</summary>
    public (float X1, float Y1, float X2, float Y2) Box(int index) =>
        (Coordinates[4 * index], Coordinates[(4 * index) + 1], Coordinates[(4 * index) + 2], Coordinates[(4 * index) + 3]);

    /// <inheritdoc />
    public string? Misfit(int height, int width) => height == Height && width == Width ? null
        : $"its boxes lie on a {Height}x{Width} canvas but its image is {height}x{width} (height x width); boxes are in their image's pixels";

    /// <inheritdoc />
    public ITarget Crop(int top, int left, int height, int width)
    {
        var coordinates = new List<float>(Coordinates.Count);
        var labels = new List<int>(Count);
        var crowd = new List<bool>(Count);
        var areas = new List<float>(Count);
        for (var i = 0; i < Count; i++)
        {
            var (x1, y1, x2, y2) = Box(i);
            float cx1 = Math.Clamp(x1 - left, 0, width), cy1 = Math.Clamp(y1 - top, 0, height);
            float cx2 = Math.Clamp(x2 - left, 0, width), cy2 = Math.Clamp(y2 - top, 0, height);
            if (cx2 - cx1 < 1 || cy2 - cy1 < 1)
            {
                continue;
            }

            var kept = (double)(cx2 - cx1) * (cy2 - cy1) / ((double)(x2 - x1) * (y2 - y1));
            coordinates.AddRange([cx1, cy1, cx2, cy2]);
            labels.Add(Labels[i]);
            crowd.Add(Crowd[i]);
            areas.Add(kept >= 1 ? Areas[i] : (float)(Areas[i] * kept));
        }

        return new Boxes(height, width, [.. coordinates], [.. labels], [.. crowd], [.. areas]);
    }

    /// <inheritdoc />
    public ITarget Pad(int padding, PaddingMode mode) =>
        new Boxes(Height + (2 * padding), Width + (2 * padding), [.. Coordinates.Select(c => c + padding)], [.. Labels], [.. Crowd], [.. Areas]);

    /// <inheritdoc />
    public ITarget FlipHorizontal()
    {
        var coordinates = new float[Coordinates.Count];
        for (var i = 0; i < Count; i++)
        {
            var (x1, y1, x2, y2) = Box(i);
            coordinates[4 * i] = Width - x2;
            coordinates[(4 * i) + 1] = y1;
            coordinates[(4 * i) + 2] = Width - x1;
            coordinates[(4 * i) + 3] = y2;
        }

        return new Boxes(Height, Width, coordinates, [.. Labels], [.. Crowd], [.. Areas]);
    }

    /// <inheritdoc />
    public ITarget Resize(int height, int width)
    {
        if (height == Height && width == Width)
        {
            return this;
        }

        float sx = (float)width / Width, sy = (float)height / Height;
        var coordinates = new float[Coordinates.Count];
        for (var i = 0; i < coordinates.Length; i++)
        {
            coordinates[i] = Coordinates[i] * (i % 2 == 0 ? sx : sy);
        }

        return new Boxes(height, width, coordinates, [.. Labels], [.. Crowd], [.. Areas.Select(a => a * sx * sy)]);
    }
}
