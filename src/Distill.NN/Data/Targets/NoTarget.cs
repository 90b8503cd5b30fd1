using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>The target of an image transformed alone: every operation leaves it as it is, and it cannot be batched.</summary>
internal sealed class NoTarget : ITarget
{
    private NoTarget()
    {
    }

    public static NoTarget Instance { get; } = new();

    public string Kind => "no target";

    public ITargetCollator Collator => throw new InvalidOperationException("an image transformed without a target cannot be batched; give the sample a target");

    public string? Misfit(int height, int width) => null;

    public ITarget Crop(int top, int left, int height, int width) => this;

    public ITarget Pad(int padding, PaddingMode mode) => this;

    public ITarget FlipHorizontal() => this;

    public ITarget Resize(int height, int width) => this;
}
