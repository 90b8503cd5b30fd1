namespace Distill.Torch;

/// <summary>Resampling of <see cref="Functional.Interpolate(Tensor, long, long, InterpolationMode, bool?)"/>.</summary>
public enum InterpolationMode
{
    /// <summary>Nearest neighbour (PyTorch's legacy "nearest").</summary>
    Nearest = 0,

    /// <summary>Bilinear, with or without aligned corners.</summary>
    Bilinear = 1,
}
