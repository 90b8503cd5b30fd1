using Distill.Export;
using System.Globalization;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// A small Vision Transformer for 32x32-class inputs (OFA-KD's heterogeneous students and teachers): a
/// patch-embedding convolution, a class token, learned position embeddings, pre-norm encoder blocks
/// (GELU MLP), a final LayerNorm on the class token and a linear head. Taps: stem = the patch grid
/// [B, D, H/p, W/p]; stage1..4 = the token sequence after evenly spaced blocks; pooled = the normalised
/// class token. It has no batch norm, so <see cref="TappedModel{TOutput}.BnBeforeRelu"/> is empty.
/// The input need not be square (as timm's img_size=(H, W)): the grid is H/p x W/p patches, flattened row by
/// row, with one learned position embedding per patch of that grid; an input of any other height or width is
/// refused, since the embeddings belong to that grid (a 16x64 input has as many patches as a 32x32 one, but
/// not the same ones).
/// </summary>
public sealed class VisionTransformer : ClassificationModel, IOnnxExportable
{
    private readonly Conv2d _patchEmbed;
    private readonly Tensor _classToken;
    private readonly Tensor _positionEmbedding;
    private readonly ModuleList _blocks;
    private readonly LayerNorm _norm;
    private readonly ClassTokenPool _pool;
    private readonly Linear _head;
    private readonly (long Rows, long Columns) _grid;

    /// <summary>Creates the network for square inputs of <paramref name="imageSize"/> pixels.</summary>
    /// <exception cref="ArgumentException">The image size is not a multiple of the patch size, or depth is below 4.</exception>
    public VisionTransformer(int numClasses = 100, int inChannels = 3, int imageSize = 32, int patchSize = 4, long embedDim = 192, int depth = 8, long heads = 3, int mlpRatio = 4)
        : this(new ModelOptions(numClasses, inChannels, imageSize), patchSize, embedDim, depth, heads, mlpRatio)
    {
    }

    /// <summary>Creates the network for inputs of <paramref name="options"/>' height and width.</summary>
    /// <exception cref="ArgumentException">The height or width is not a multiple of the patch size, or depth is below 4.</exception>
    public VisionTransformer(ModelOptions options, int patchSize = 4, long embedDim = 192, int depth = 8, long heads = 3, int mlpRatio = 4)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Height % patchSize != 0 || options.Width % patchSize != 0 || depth < 4)
        {
            throw new ArgumentException($"ViT needs the input height and width ({options.Height}x{options.Width}) to be multiples of the patch size ({patchSize}) and depth >= 4 (got {depth})");
        }

        var (numClasses, inChannels) = (options.NumClasses, options.InChannels);
        ImageHeight = options.Height;
        ImageWidth = options.Width;
        _grid = (options.Height / patchSize, options.Width / patchSize);
        _patchEmbed = RegisterModule("patch_embed", new Conv2d(inChannels, embedDim, patchSize, patchSize));
        _classToken = RegisterParameter("cls_token", Tensor.Zeros([1, 1, embedDim]))!;
        _positionEmbedding = RegisterParameter("pos_embed", Tensor.Zeros([1, (_grid.Rows * _grid.Columns) + 1, embedDim]))!;
        Init.Normal(_classToken, 0, 0.02);
        Init.Normal(_positionEmbedding, 0, 0.02);
        _blocks = RegisterModule("blocks", new ModuleList());
        for (var i = 0; i < depth; i++)
        {
            _blocks.Add(new TransformerEncoderLayer(embedDim, heads, embedDim * mlpRatio, dropout: 0, gelu: true, batchFirst: true, normFirst: true));
        }

        _norm = RegisterModule("norm", new LayerNorm(embedDim, 1e-6));
        _pool = RegisterModule("pool", new ClassTokenPool());
        _head = RegisterModule("head", new Linear(embedDim, numClasses));
        AddTap("stem", "patch_embed");
        for (var s = 1; s <= 4; s++)
        {
            var block = ((s * depth) / 4 - 1).ToString(CultureInfo.InvariantCulture);
            AddTap($"stage{s}", $"blocks.{block}");
            AddTap($"stage{s}.preact", $"blocks.{block}");
        }

        AddTap("pooled", "pool");
        AddTap("logits", "head");
    }

    /// <summary>The input height the position embeddings were made for.</summary>
    public int ImageHeight { get; }

    /// <summary>The input width the position embeddings were made for.</summary>
    public int ImageWidth { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var grid = _patchEmbed.Forward(input);
        if (grid.Size(2) != _grid.Rows || grid.Size(3) != _grid.Columns)
        {
            throw new ArgumentException(
                $"this ViT was built for {ImageHeight}x{ImageWidth} inputs (a {_grid.Rows}x{_grid.Columns} grid of patches, one position embedding each); the input has shape {Tensor.FormatShape(input.Shape)}");
        }

        var tokens = grid.Flatten(2).Transpose(1, 2);

        var x = Tensor.Cat([_classToken.Expand(tokens.Size(0), -1, -1), tokens], 1) + _positionEmbedding;
        foreach (var block in _blocks)
        {
            x = ((TransformerEncoderLayer)block).Forward(x);
        }

        return _head.Forward(_pool.Forward(_norm.Forward(x)));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        const string Path = "tokens";
        var dim = _classToken.Size(2);
        var grid = graph.Emit(_patchEmbed, input);
        var tokens = graph.Transpose(graph.Reshape(grid, Path, 0, dim, -1), Path, 0, 2, 1);
        var batchShape = graph.Concat([graph.ShapeSlice(tokens, 0, 1, Path), graph.Int64s(Path + ".ones", 1, 1)], 0, Path);
        var classTokens = graph.Node("Expand", [graph.Weight("cls_token", _classToken), batchShape], Path);
        graph.HoldImageSize("the position embedding has one entry per patch of the exported size");
        var x = graph.Add(graph.Concat([classTokens, tokens], 1, Path), graph.Weight("pos_embed", _positionEmbedding), Path);
        foreach (var block in _blocks)
        {
            x = graph.Emit(block, x);
        }

        return graph.Emit(_head, graph.Emit(_pool, graph.Emit(_norm, x)));
    }

    private sealed class ClassTokenPool : Module<Tensor, Tensor>, IOnnxExportable
    {
        protected override Tensor ForwardCore(Tensor input) => input.Select(1, 0);

        string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) =>
            graph.Node("Gather", [input, graph.Int64Scalar(graph.PathOf(this) + ".index", 0)], graph.PathOf(this), OnnxGraph.Attr("axis", 1L));
    }
}
