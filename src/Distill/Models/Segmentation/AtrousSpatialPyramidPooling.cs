using Distill.Export;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models.Segmentation;

/// <summary>
/// Atrous spatial pyramid pooling, DeepLabV3's context module, with torchvision's layout and names: "convs" holds a
/// 1x1 conv + BN + ReLU, one 3x3 conv + BN + ReLU per atrous rate (dilation = padding = rate) and the
/// <see cref="AsppPooling"/> branch; their concatenation goes through "project": 1x1 conv + BN + ReLU + Dropout(0.5).
/// Convs have no bias.
/// </summary>
public sealed class AtrousSpatialPyramidPooling : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly ModuleList _convs;
    private readonly Sequential _project;

    /// <summary>Creates the module.</summary>
    /// <param name="inChannels">Input channels (layer4's).</param>
    /// <param name="atrousRates">The 3x3 branches' dilations (12, 24, 36 in torchvision).</param>
    /// <param name="outChannels">Each branch's and the output's channels (256 in torchvision).</param>
    /// <exception cref="ArgumentException">A rate below 1.</exception>
    public AtrousSpatialPyramidPooling(long inChannels, IReadOnlyList<int> atrousRates, long outChannels = 256)
    {
        ArgumentNullException.ThrowIfNull(atrousRates);
        if (atrousRates.Any(r => r < 1))
        {
            throw new ArgumentException($"ASPP rates must be at least 1 (got {string.Join(", ", atrousRates)})", nameof(atrousRates));
        }

        AtrousRates = [.. atrousRates];
        _convs = RegisterModule("convs", new ModuleList());
        _convs.Add(new Sequential(Blocks.Conv(inChannels, outChannels, 1), new BatchNorm2d(outChannels), new ReLU()));
        foreach (var rate in atrousRates)
        {
            _convs.Add(new Sequential(Blocks.Conv(inChannels, outChannels, 3, 1, rate, dilation: rate), new BatchNorm2d(outChannels), new ReLU()));
        }

        _convs.Add(new AsppPooling(inChannels, outChannels));
        _project = RegisterModule("project", new Sequential(
            Blocks.Conv(_convs.Count * outChannels, outChannels, 1), new BatchNorm2d(outChannels), new ReLU(), new Dropout(0.5)));
    }

    /// <summary>The 3x3 branches' dilations.</summary>
    public IReadOnlyList<int> AtrousRates { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var branches = _convs.Cast<Module<Tensor, Tensor>>().Select(b => b.Forward(input)).ToArray();
        return _project.Forward(Tensor.Cat(branches, 1));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) =>
        graph.Emit(_project, graph.Concat([.. _convs.Select(b => graph.Emit(b, input))], 1, graph.PathOf(this)));
}
