namespace Distill.NN.Data;

/// <summary>(x - mean) / std per channel, in float32 as torchvision.transforms.Normalize computes it; the target passes through.</summary>
public sealed class Normalize : ITransform
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentException">Lengths differ, or a std is zero.</exception>
    public Normalize(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count != std.Count || std.Any(s => s == 0))
        {
            throw new ArgumentException("Normalize needs as many means as stds, and no zero std");
        }

        _mean = mean.Select(m => (float)m).ToArray();
        _std = std.Select(s => (float)s).ToArray();
    }

    /// <summary>The per-channel means subtracted.</summary>
    public IReadOnlyList<double> Mean => [.. _mean.Select(m => (double)m)];

    /// <summary>The per-channel standard deviations divided by.</summary>
    public IReadOnlyList<double> Std => [.. _std.Select(s => (double)s)];

    /// <summary>CIFAR-100's statistics as the CIFAR recipes use them.</summary>
    public static Normalize Cifar100 => new([0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762]);

    /// <summary>ImageNet's RGB statistics (torchvision's usual choice for an image folder).</summary>
    public static Normalize ImageNet => new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);

    /// <summary>Fashion-MNIST's statistics.</summary>
    public static Normalize FashionMnist => new([0.2860], [0.3530]);

    /// <inheritdoc />
    public (Image Image, ITarget Target) Apply(Image image, ITarget target, Random random) => (Normalized(image), target);

    private Image Normalized(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Channels != _mean.Length)
        {
            throw new ArgumentException($"Normalize has {_mean.Length} channel statistics but the image has {image.Channels} channels");
        }

        var plane = image.Height * image.Width;
        var data = new float[image.Data.Length];
        for (var c = 0; c < image.Channels; c++)
        {
            for (var i = 0; i < plane; i++)
            {
                data[(c * plane) + i] = (image.Data[(c * plane) + i] - _mean[c]) / _std[c];
            }
        }

        return new Image(image.Channels, image.Height, image.Width, data);
    }

    /// <inheritdoc />
    public override string ToString() =>
        TransformDraw.Invariant($"Normalize(mean=[{string.Join(", ", _mean.Select(m => m.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}], std=[{string.Join(", ", _std.Select(m => m.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}])");
}
