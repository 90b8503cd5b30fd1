using Distill.Torch;

namespace Distill.NN;

/// <summary>Merges dimensions startDim..endDim (torch.nn.Flatten; default from 1, keeping the batch).</summary>
public sealed class Flatten(long startDim = 1, long endDim = -1) : Module<Tensor, Tensor>
{
    /// <summary>The first dimension merged.</summary>
    public long StartDim => startDim;

    /// <summary>The last dimension merged (negative counts from the end).</summary>
    public long EndDim => endDim;

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => input.Flatten(startDim, endDim);
}
