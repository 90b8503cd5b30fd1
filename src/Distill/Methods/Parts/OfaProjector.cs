using Distill.NN;

namespace Distill.Methods;

/// <summary>
/// OFA's stage projectors (Hao840/OFAKD distillers/ofa.py), from a student stage to class logits. For a CNN stage map
/// [C, H, W]: r SepConv blocks (depthwise 3×3 stride 2 → pointwise → BN → ReLU → depthwise 3×3 → pointwise → BN →
/// ReLU; channels double, the last block gives D), or a 1×1 conv to D when r = 0; then global average pooling and
/// Linear(D → K). For ViT tokens [L, E]: ⌊log₂(⌊√L⌋ / 7)⌋ <see cref="PatchMerging"/> layers, then timm ViT blocks, the
/// class token and Linear(d_s → K). OFA registers them under "projectors" (keys projectors.&lt;i&gt;.&lt;layer&gt;.*).
/// </summary>
public static class OfaProjector
{
    /// <summary>The CNN projector: <paramref name="blocks"/> SepConv blocks from <paramref name="channels"/> to <paramref name="dim"/> (a 1×1 conv when 0), pooling, Linear(D → K).</summary>
    public static Sequential Cnn(long channels, int blocks, long dim, long classes)
    {
        var layers = new Sequential();
        if (blocks == 0)
        {
            layers.Add(new Conv2d(channels, dim, 1));
        }
        else
        {
            var c = channels;
            for (var b = 0; b < blocks; b++)
            {
                var next = b == blocks - 1 ? dim : c * 2;
                layers.Add(SepConv(c, next));
                c = next;
            }
        }

        layers.Add(new AdaptiveAvgPool2d(1));
        layers.Add(new Flatten());
        layers.Add(new Linear(dim, classes));
        return layers;
    }

    /// <summary>
    /// The token projector for [B, <paramref name="tokens"/>, <paramref name="embedDim"/>] tokens: patch merging,
    /// <paramref name="blocks"/> timm blocks of width <paramref name="dim"/> (4 heads), the class token, Linear(d_s → K).
    /// </summary>
    /// <exception cref="ArgumentException">The tokens are not <paramref name="dim"/> wide.</exception>
    public static Sequential Token(string stage, long tokens, long embedDim, long dim, int blocks, long classes)
    {
        var grid = (long)Math.Floor(Math.Sqrt(tokens));
        var merges = Math.Max((int)Math.Floor(Math.Log2(grid / 7.0)), 0);
        if (embedDim != dim)
        {
            // The official projector concatenates the untouched class token with the merged patch tokens, then runs
            // blocks of width d_s: it only works when the tokens are d_s wide.
            throw new ArgumentException($"ofa: the student's {stage} has {embedDim}-wide tokens but its pooled size is {dim}; the token projector needs them equal");
        }

        var layers = new Sequential();
        for (var m = 0; m < merges; m++)
        {
            layers.Add(new PatchMerging(dim, activation: m == 0 || m < merges - 1));
        }

        for (var b = 0; b < blocks; b++)
        {
            layers.Add(new VisionBlock(dim, 4));
        }

        layers.Add(new ClassToken());
        layers.Add(new Linear(dim, classes));
        return layers;
    }

    /// <summary>
    /// The official init over every projector (run once, after all are built, so the random draws come in the same
    /// order): Kaiming-normal convs (fan-out, ReLU), Linear weights N(0, 0.02) with zero bias; BN and LayerNorm keep 1 / 0.
    /// </summary>
    public static void Initialize(Module projectors)
    {
        ArgumentNullException.ThrowIfNull(projectors);
        foreach (var (_, module) in projectors.NamedModules())
        {
            switch (module)
            {
                case Conv2d conv:
                    Init.KaimingNormal(conv.Weight, mode: Init.FanMode.FanOut, nonlinearity: "relu");
                    break;
                case Linear linear:
                    Init.Normal(linear.Weight, 0, 0.02);
                    if (linear.Bias is { } bias)
                    {
                        Init.Zeros(bias);
                    }

                    break;
            }
        }
    }

    private static Sequential SepConv(long input, long output) => new(
        new Conv2d(input, input, 3, stride: 2, padding: 1, groups: input, bias: false),
        new Conv2d(input, input, 1, bias: false),
        new BatchNorm2d(input),
        new ReLU(),
        new Conv2d(input, input, 3, padding: 1, groups: input, bias: false),
        new Conv2d(input, output, 1, bias: false),
        new BatchNorm2d(output),
        new ReLU());
}
