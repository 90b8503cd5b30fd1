namespace Distill.NN.Data;

/// <summary>Conveniences over <see cref="ITransform"/>.</summary>
public static class TransformExtensions
{
    /// <summary>Transforms an image that has no target (the same random draws as with one).</summary>
    public static Image Apply(this ITransform transform, Image image, Random random)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return transform.Apply(image, NoTarget.Instance, random).Image;
    }
}
