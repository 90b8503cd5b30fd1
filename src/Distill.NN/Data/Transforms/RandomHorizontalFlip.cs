namespace Distill.NN.Data;

/// <summary>Mirrors the image and its target left to right with probability p (torchvision.transforms.RandomHorizontalFlip).</summary>
public sealed class RandomHorizontalFlip(double p = 0.5) : ITransform
{
    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(target);
        return random.NextDouble() < p ? (ImageOps.FlipHorizontal(image), target.FlipHorizontal()) : (image, target);
    }
}
