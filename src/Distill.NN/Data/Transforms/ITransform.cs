namespace Distill.NN.Data;

/// <summary>
/// An image transform. Random ones draw only from the <see cref="Random"/> given to <see cref="Apply"/>, which the loader seeds per
/// sample from the epoch's seed and the sample's index, so results do not depend on worker scheduling.
/// </summary>
public interface ITransform
{
    /// <summary>Returns the transformed image (a new one, or the input when unchanged).</summary>
    Image Apply(Image image, Random random);
}
