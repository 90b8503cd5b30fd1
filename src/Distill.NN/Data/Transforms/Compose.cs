namespace Distill.NN.Data;

/// <summary>Applies transforms in order (torchvision.transforms.Compose).</summary>
public sealed class Compose(params IEnumerable<ITransform> transforms) : ITransform
{
    private readonly ITransform[] _transforms = transforms.ToArray();

    /// <inheritdoc />
    public Image Apply(Image image, Random random)
    {
        foreach (var t in _transforms)
        {
            image = t.Apply(image, random);
        }

        return image;
    }
}
