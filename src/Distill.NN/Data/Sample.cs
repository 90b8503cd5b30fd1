namespace Distill.NN.Data;

/// <summary>One image with its target and its index in the data set (CRD's memory bank needs the index).</summary>
/// <param name="Image">The image.</param>
/// <param name="Target">What the image is labelled with: a <see cref="ClassLabel"/>, a <see cref="Mask"/>, ...</param>
/// <param name="Index">The position in the data set.</param>
public readonly record struct Sample(Image Image, ITarget Target, int Index)
{
    /// <summary>An image labelled with a class.</summary>
    public Sample(Image image, int label, int index)
        : this(image, new ClassLabel(label), index)
    {
    }

    /// <summary>The class index of a sample labelled with a class.</summary>
    /// <exception cref="InvalidOperationException">The target is not a class label.</exception>
    public int Label => Target is ClassLabel label ? label.Value
        : throw new InvalidOperationException($"sample {Index} is labelled with a {Target?.Kind ?? "null target"}, not a class label");
}
