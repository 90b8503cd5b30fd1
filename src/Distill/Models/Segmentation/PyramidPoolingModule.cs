using Distill.Export;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models.Segmentation;

/// <summary>
/// PSPNet's pyramid pooling module with the names of the Structured KD official code's PSPModule: "stages" holds,
/// per pool size, an adaptive average pool to size x size, a 1x1 conv (no bias) and a <see cref="BatchNormLeakyReLU"/>;
/// each is resized back bilinearly with align_corners=True and concatenated, the input last, then "bottleneck":
/// 3x3 conv (no bias) + <see cref="BatchNormLeakyReLU"/> + Dropout2d(0.1).
/// </summary>
public sealed class PyramidPoolingModule : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly ModuleList _stages;
    private readonly Sequential _bottleneck;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels (layer4's).</param>
    /// <param name="outChannels">Each pooled branch's and the output's channels (512 for ResNet-101, 128 for ResNet-18 in the official code).</param>
    /// <param name="poolSizes">The pooled grid sizes (1, 2, 3, 6).</param>
    /// <exception cref="ArgumentException">No pool size, or one below 1.</exception>
    public PyramidPoolingModule(long inChannels, long outChannels, IReadOnlyList<int> poolSizes)
    {
        ArgumentNullException.ThrowIfNull(poolSizes);
        if (poolSizes.Count == 0 || poolSizes.Any(s => s < 1))
        {
            throw new ArgumentException($"pyramid pool sizes must be at least 1 (got [{string.Join(", ", poolSizes)}])", nameof(poolSizes));
        }

        PoolSizes = [.. poolSizes];
        _stages = RegisterModule("stages", new ModuleList());
        foreach (var size in poolSizes)
        {
            _stages.Add(new Sequential(new AdaptiveAvgPool2d(size), Blocks.Conv(inChannels, outChannels, 1), new BatchNormLeakyReLU(outChannels)));
        }

        _bottleneck = RegisterModule("bottleneck", new Sequential(
            Blocks.Conv(inChannels + (poolSizes.Count * outChannels), outChannels, 3, 1, 1), new BatchNormLeakyReLU(outChannels), new Dropout2d(0.1)));
    }

    /// <summary>The pooled grid sizes.</summary>
    public IReadOnlyList<int> PoolSizes { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var (h, w) = (input.Size(2), input.Size(3));
        var priors = _stages.Cast<Module<Tensor, Tensor>>()
            .Select(s => F.Interpolate(s.Forward(input), h, w, InterpolationMode.Bilinear, alignCorners: true))
            .Append(input).ToArray();
        return _bottleneck.Forward(Tensor.Cat(priors, 1));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var path = graph.PathOf(this);
        var priors = _stages.Select(s => graph.ResizeBilinear(graph.Emit(s, input), input, alignCorners: true, path)).Append(input);
        return graph.Emit(_bottleneck, graph.Concat(priors, 1, path));
    }
}
