namespace Distill.NN.Data;

/// <summary>Applies transforms in order (torchvision.transforms.Compose).</summary>
public sealed class Compose(params IEnumerable<ITransform> transforms) : ITransform
{
    private readonly ITransform[] _transforms = transforms.ToArray();

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random)
    {
        foreach (var t in _transforms)
        {
            (image, target) = t.Apply(image, target, random);
        }

        return (image, target);
    }
}
