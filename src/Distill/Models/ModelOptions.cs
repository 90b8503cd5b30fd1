namespace Distill.Models;

/// <summary>
/// What every zoo model can be configured with: classifier outputs, image channels, and the input height and
/// width (which need not be equal). Convolutional models accept any size their strides leave at least one pixel
/// of; the size matters to models with position embeddings (ViT) and to every dry run (tap shapes).
/// </summary>
/// <param name="NumClasses">Classifier outputs.</param>
/// <param name="InChannels">Image channels (1 for Fashion-MNIST).</param>
/// <param name="Height">Input height in pixels.</param>
/// <param name="Width">Input width in pixels.</param>
public sealed record ModelOptions(int NumClasses, int InChannels, int Height, int Width)
{
    /// <summary>Options for square inputs of <paramref name="ImageSize"/> x <paramref name="ImageSize"/>.</summary>
    /// <param name="NumClasses">Classifier outputs.</param>
    /// <param name="InChannels">Image channels.</param>
    /// <param name="ImageSize">Input height and width.</param>
    public ModelOptions(int NumClasses = 100, int InChannels = 3, int ImageSize = 32)
        : this(NumClasses, InChannels, ImageSize, ImageSize)
    {
    }

    /// <summary>Input height in pixels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public int Height { get; init; } = Height > 0 ? Height : throw new ArgumentOutOfRangeException(nameof(Height), Height, "the input height must be positive");

    /// <summary>Input width in pixels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public int Width { get; init; } = Width > 0 ? Width : throw new ArgumentOutOfRangeException(nameof(Width), Width, "the input width must be positive");

    /// <summary>The input as channels x height x width, e.g. "3x24x40" (for messages).</summary>
    public string InputSize => $"{InChannels}x{Height}x{Width}";
}
