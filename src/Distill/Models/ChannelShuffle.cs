using Distill.Export;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>ShuffleNet's channel shuffle: [N, C, H, W] -> [N, g, C/g, H, W] -> swap g and C/g -> [N, C, H, W].</summary>
/// <param name="groups">The number of groups.</param>
public sealed class ChannelShuffle(long groups) : Module<Tensor, Tensor>, IOnnxExportable
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var s = input.Shape;
        return input.Reshape(s[0], groups, s[1] / groups, s[2], s[3]).Permute(0, 2, 1, 3, 4).Reshape(s[0], s[1], s[2], s[3]);
    }

    /// <inheritdoc />
    /// <remarks>The 5-d shape is built from the input's runtime shape, so the batch (and the image size) stays free.</remarks>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        var path = graph.PathOf(this);
        var shape = graph.Node("Shape", [input], path);
        var grouped = graph.Concat(
            [graph.ShapeSlice(input, 0, 1, path), graph.Int64s(path + ".groups", groups, -1), graph.ShapeSlice(input, 2, 4, path)], 0, path);
        var swapped = graph.Transpose(graph.Node("Reshape", [input, grouped], path), path, 0, 2, 1, 3, 4);
        return graph.Node("Reshape", [swapped, shape], path);
    }
}
