namespace Distill.NN.Data;

/// <summary>
/// Rescales the image (bilinear) and its target (a mask by nearest pixel, so no new label values appear) by a random
/// ratio r, to round(H x r) x round(W x r) pixels (halves rounded up, at least 1). The ratio is drawn uniformly from
/// [min, max] (mmsegmentation's Resize with a ratio_range, relative to the image's own size) or, in the stepped form,
/// as start + step x k with k uniform in 0 .. steps - 1 (the Structured KD and CWD loaders: 0.7 + randint(0, 14) / 10,
/// ratios 0.7 to 2.1).
/// </summary>
public sealed class RandomScale : IRandomTransform
{
    private readonly double _min;
    private readonly double _max;
    private readonly double _step;
    private readonly int _steps;

    /// <summary>A ratio uniform in [<paramref name="min"/>, <paramref name="max"/>] (mmseg: ratio_range=(0.5, 2.0)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">min is not positive or max is below min.</exception>
    public RandomScale(double min, double max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(min, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        _min = min;
        _max = max;
    }

    private RandomScale(double start, double step, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(start, 0);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        _min = start;
        _max = start + (step * (steps - 1));
        _step = step;
        _steps = steps;
    }

    /// <summary>The stepped form: start + step x k, k uniform in 0 .. steps - 1; the defaults are Structured KD's 0.7 + randint(0, 14) / 10.</summary>
    public static RandomScale Stepped(double start = 0.7, double step = 0.1, int steps = 15) => new(start, step, steps);

    /// <summary>Draws the ratio as <see cref="Apply"/> does.</summary>
    public double DrawRatio(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return _steps > 0 ? _min + (_step * random.Next(0, _steps)) : _min + ((_max - _min) * random.NextDouble());
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ParameterNames { get; } = ["ratio"];

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random) => Replay(image, target, Draw(image, target, random));

    /// <inheritdoc />
    public double[] Draw(Image image, ITarget target, Random random) => [DrawRatio(random)];

    /// <inheritdoc />
    public override string ToString() => _steps > 0
        ? TransformDraw.Invariant($"RandomScale(start={_min:R}, step={_step:R}, steps={_steps})")
        : TransformDraw.Invariant($"RandomScale([{_min:R}, {_max:R}])");

    /// <inheritdoc />
    public (Image Image, ITarget Target) Replay(Image image, ITarget target, ReadOnlySpan<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(target);
        TransformDraw.CheckCount(this, parameters);
        var ratio = parameters[0];
        var height = Math.Max(1, (int)((image.Height * ratio) + 0.5));
        var width = Math.Max(1, (int)((image.Width * ratio) + 0.5));
        return height == image.Height && width == image.Width
            ? (image, target)
            : (ImageOps.ResizeBilinear(image, height, width), target.Resize(height, width));
    }
}
