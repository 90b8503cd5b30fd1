using Distill.Torch.Distributed;

namespace Distill.NN;

/// <summary>
/// Batch normalisation whose training statistics span every rank of a process group (torch.nn.SyncBatchNorm):
/// the mean and variance are those of all ranks' batches together, the running statistics follow them (so they
/// stay identical on every rank), and backward all-reduces the two per-channel sums the input gradient needs.
/// In eval mode, or with no group or a group of one rank, it is plain batch normalisation. Parameter and buffer
/// names are BatchNorm's, so state dicts move freely between the two and PyTorch's SyncBatchNorm.
/// </summary>
public sealed class SyncBatchNorm : BatchNorm
{
    /// <summary>Creates the layer: weight 1, bias 0, running mean 0, running variance 1.</summary>
    /// <param name="numFeatures">Channels (C of [N, C, ...]).</param>
    /// <param name="processGroup">The ranks that share statistics; null behaves as one rank.</param>
    /// <param name="eps">Added to the variance for stability.</param>
    /// <param name="momentum">The running statistics' update factor; null for a cumulative moving average.</param>
    /// <param name="affine">Whether the layer has a weight and a bias.</param>
    /// <param name="trackRunningStats">Whether the layer keeps running statistics.</param>
    public SyncBatchNorm(long numFeatures, IProcessGroup? processGroup = null, double eps = 1e-5, double? momentum = 0.1, bool affine = true,
        bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, [2, 3, 4, 5]) => ProcessGroup = processGroup;

    /// <summary>
    /// Makes every batch normalisation layer of <paramref name="module"/> synchronise over
    /// <paramref name="processGroup"/> (torch.nn.SyncBatchNorm.convert_sync_batchnorm). The layers are converted in
    /// place, since models keep them in typed fields: they keep their type, weights, buffers and state-dict keys and
    /// from now on behave as <see cref="SyncBatchNorm"/>.
    /// </summary>
    /// <param name="module">The model; it may be a single batch normalisation layer.</param>
    /// <param name="processGroup">The ranks that share statistics.</param>
    /// <returns>How many layers were converted.</returns>
    public static int Convert(Module module, IProcessGroup processGroup)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(processGroup);
        var count = 0;
        foreach (var (_, m) in module.NamedModules())
        {
            if (m is BatchNorm bn)
            {
                bn.ProcessGroup = processGroup;
                count++;
            }
        }

        return count;
    }
}
