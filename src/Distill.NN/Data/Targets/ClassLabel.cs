using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>The class of a whole image: geometric transforms leave it unchanged; a batch of them is Int64 [B].</summary>
/// <param name="Value">The class index.</param>
public sealed record ClassLabel(int Value) : ITarget
{
    /// <inheritdoc />
    public string Kind => "class label";

    /// <inheritdoc />
    public ITargetCollator Collator => ClassLabelCollator.Instance;

    /// <inheritdoc />
    public string? Misfit(int height, int width) => null;

    /// <inheritdoc />
    public ITarget Crop(int top, int left, int height, int width) => this;

    /// <inheritdoc />
    public ITarget Pad(int padding, PaddingMode mode) => this;

    /// <inheritdoc />
    public ITarget FlipHorizontal() => this;

    /// <inheritdoc />
    public ITarget Resize(int height, int width) => this;
}
