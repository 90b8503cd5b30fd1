using Distill.Torch;

namespace Distill.NN;

/// <summary>Merges dimensions startDim..endDim (torch.nn.Flatten; default from 1, keeping the batch).</summary>
public sealed class Flatten(long startDim = 1, long endDim = -1) : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => input.Flatten(startDim, endDim);
}
