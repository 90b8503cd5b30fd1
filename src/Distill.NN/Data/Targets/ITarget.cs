using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// What a sample's image is labelled with: a class (<see cref="ClassLabel"/>), a class per pixel (<see cref="Mask"/>), and
/// later boxes. A target moves with its image through the geometric transforms: each kind implements the same few
/// operations, as torchvision.transforms.v2 gives each type its own kernel (a kind that needs its image's size, such as
/// boxes, keeps it, as torchvision's BoundingBoxes keeps canvas_size). Its kind's <see cref="Collator"/> stacks a batch of
/// them, so the loader knows no kind and a new one needs no change there.
/// </summary>
public interface ITarget
{
    /// <summary>A short name of the kind, for messages ("class label", "mask").</summary>
    string Kind { get; }

    /// <summary>Stacks a batch of targets of this kind.</summary>
    ITargetCollator Collator { get; }

    /// <summary>Why this target cannot label an image of <paramref name="height"/> x <paramref name="width"/> pixels (a phrase naming both sizes), or null when it can.</summary>
    string? Misfit(int height, int width);

    /// <summary>The target of the window (top, left, height, width) of its image; the window may reach outside the image.</summary>
    ITarget Crop(int top, int left, int height, int width);

    /// <summary>The target of its image padded by <paramref name="padding"/> pixels on every side.</summary>
    ITarget Pad(int padding, PaddingMode mode);

    /// <summary>The target of its image mirrored left to right.</summary>
    ITarget FlipHorizontal();

    /// <summary>The target of its image resized to <paramref name="height"/> x <paramref name="width"/> pixels.</summary>
    ITarget Resize(int height, int width);
}
