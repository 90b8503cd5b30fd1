namespace Distill.Tasks.Detection;

/// <summary>The FCOS loss settings; the defaults are the official improved configs' (and the CPU-sized pair's).</summary>
public sealed record FcosLossOptions
{
    /// <summary>The focal loss's weight of the positive class (0.25).</summary>
    public double Alpha { get; init; } = 0.25;

    /// <summary>The focal loss's focusing exponent (2).</summary>
    public double Gamma { get; init; } = 2;

    /// <summary>The regression loss (GIoU).</summary>
    public FcosIouLoss IouLoss { get; init; } = FcosIouLoss.Giou;

    /// <summary>The centre-sampling radius in strides (1.5; 0 for any location inside the box).</summary>
    public double CenterSamplingRadius { get; init; } = FcosTargets.DefaultCenterSamplingRadius;
}
