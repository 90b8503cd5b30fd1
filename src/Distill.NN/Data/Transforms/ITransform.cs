namespace Distill.NN.Data;

/// <summary>
/// A joint transform of an image and its target: geometric ones move both alike (the target through <see cref="ITarget"/>'s
/// operations), photometric ones pass the target through. Random ones draw only from the <see cref="Random"/> given to
/// <see cref="Apply"/>, which the loader seeds per sample from the epoch's seed and the sample's index, so results do not
/// depend on worker scheduling; the draws do not depend on the target, so a class label and a mask see the same crop.
/// <see cref="TransformExtensions.Apply(ITransform, Image, Random)"/> transforms an image alone.
/// </summary>
public interface ITransform
{
    /// <summary>Returns the transformed image and target (new ones, or the inputs when unchanged).</summary>
    (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random);
}
