namespace Distill.NN.Data;

/// <summary>Mirrors left to right with probability p (torchvision.transforms.RandomHorizontalFlip).</summary>
public sealed class RandomHorizontalFlip(double p = 0.5) : ITransform
{
    /// <inheritdoc />
    public Image Apply(Image image, Random random) => random.NextDouble() < p ? ImageOps.FlipHorizontal(image) : image;
}
