namespace Distill.NN.Data;

/// <summary>Mirrors the image and its target left to right with probability p (torchvision.transforms.RandomHorizontalFlip).</summary>
public sealed class RandomHorizontalFlip(double p = 0.5) : IRandomTransform
{
    /// <inheritdoc />
    public IReadOnlyList<string> ParameterNames { get; } = ["flip"];

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random) => Replay(image, target, Draw(image, target, random));

    /// <inheritdoc />
    public double[] Draw(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return [random.NextDouble() < p ? 1 : 0];
    }

    /// <inheritdoc />
    public (Image Image, ITarget Target) Replay(Image image, ITarget target, ReadOnlySpan<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(target);
        TransformDraw.CheckCount(this, parameters);
        return parameters[0] != 0 ? (ImageOps.FlipHorizontal(image), target.FlipHorizontal()) : (image, target);
    }

    /// <inheritdoc />
    public override string ToString() => TransformDraw.Invariant($"RandomHorizontalFlip(p={p:R})");
}
