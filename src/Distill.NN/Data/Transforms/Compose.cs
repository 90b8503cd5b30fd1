namespace Distill.NN.Data;

/// <summary>
/// Applies transforms in order (torchvision.transforms.Compose). Its random steps (<see cref="IRandomTransform"/>) can be
/// recorded as one draw and replayed (<see cref="TransformDraw"/>).
/// </summary>
public sealed class Compose(params IEnumerable<ITransform> transforms) : ITransform
{
    private readonly ITransform[] _transforms = transforms.ToArray();

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<ITransform> Transforms => _transforms;

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random)
    {
        foreach (var t in _transforms)
        {
            (image, target) = t.Apply(image, target, random);
        }

        return (image, target);
    }

    /// <summary>The steps with their settings, e.g. "RandomCrop(28x28, padding=2, ...) | RandomHorizontalFlip(p=0.5) | Normalize(...)".</summary>
    public override string ToString() => string.Join(" | ", _transforms.Select(t => t.ToString()));
}
