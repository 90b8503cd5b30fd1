namespace Distill.Models.Segmentation;

/// <summary>The stem of a <see cref="DilatedResNet"/>.</summary>
public enum ResNetStem
{
    /// <summary>torchvision's: 7x7 conv with stride 2, BN, ReLU, 3x3 max pool with stride 2 (the input shrinks by 4).</summary>
    TorchVision,

    /// <summary>The small networks': one 3x3 conv with stride 2, BN, ReLU, no pooling (the input shrinks by 2).</summary>
    Conv3x3,
}
