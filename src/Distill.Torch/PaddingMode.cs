namespace Distill.Torch;

/// <summary>How <see cref="Tensor.Pad"/> fills the border (torch.nn.functional.pad's mode).</summary>
public enum PaddingMode
{
    /// <summary>A constant value.</summary>
    Constant = 0,

    /// <summary>The mirror image without repeating the edge.</summary>
    Reflect = 1,

    /// <summary>The edge value repeated.</summary>
    Replicate = 2,

    /// <summary>Wrap-around.</summary>
    Circular = 3,
}
