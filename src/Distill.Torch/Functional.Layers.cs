using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>
/// Stateless layers, activations and losses (torch.nn.functional). Every function is libtorch's own
/// kernel with its gradient; argument names and defaults follow PyTorch.
/// </summary>
public static unsafe partial class Functional
{
    /// <summary>2-d convolution of [N, C, H, W] input with [O, C/groups, kH, kW] weight (F.conv2d).</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, (long H, long W)? stride = null,
        (long H, long W)? padding = null, (long H, long W)? dilation = null, long groups = 1)
    {
        var s = stride ?? (1, 1);
        var p = padding ?? (0, 0);
        var d = dilation ?? (1, 1);
        long* sp = stackalloc long[] { s.H, s.W };
        long* pp = stackalloc long[] { p.H, p.W };
        long* dp = stackalloc long[] { d.H, d.W };
        return Tensor.Wrap(Native.dt_conv2d(input.Handle, weight.Handle, OptionalHandle(bias), sp, pp, dp, groups, out var r), r);
    }

    /// <summary>2-d transposed convolution with [C, O/groups, kH, kW] weight (F.conv_transpose2d).</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, (long H, long W)? stride = null,
        (long H, long W)? padding = null, (long H, long W)? outputPadding = null, long groups = 1, (long H, long W)? dilation = null)
    {
        var s = stride ?? (1, 1);
        var p = padding ?? (0, 0);
        var o = outputPadding ?? (0, 0);
        var d = dilation ?? (1, 1);
        long* sp = stackalloc long[] { s.H, s.W };
        long* pp = stackalloc long[] { p.H, p.W };
        long* op = stackalloc long[] { o.H, o.W };
        long* dp = stackalloc long[] { d.H, d.W };
        return Tensor.Wrap(Native.dt_conv_transpose2d(input.Handle, weight.Handle, OptionalHandle(bias), sp, pp, op, groups, dp, out var r), r);
    }

    /// <summary>x W^T + b (F.linear).</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null) =>
        Tensor.Wrap(Native.dt_linear(input.Handle, weight.Handle, OptionalHandle(bias), out var r), r);

    /// <summary>
    /// Batch normalisation (F.batch_norm). In training it normalises with the batch statistics and updates
    /// the running ones in place (momentum-weighted, unbiased variance); in eval it uses the running ones.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        Tensor.Wrap(Native.dt_batch_norm(input.Handle, OptionalHandle(weight), OptionalHandle(bias), OptionalHandle(runningMean),
            OptionalHandle(runningVar), training ? 1 : 0, momentum, eps, out var r), r);

    /// <summary>Layer normalisation over the trailing <paramref name="normalizedShape"/> (F.layer_norm).</summary>
    public static Tensor LayerNorm(Tensor input, ReadOnlySpan<long> normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        fixed (long* s = normalizedShape)
        {
            return Tensor.Wrap(Native.dt_layer_norm(input.Handle, s, normalizedShape.Length, OptionalHandle(weight), OptionalHandle(bias), eps, out var r), r);
        }
    }

    /// <summary>Group normalisation (F.group_norm).</summary>
    public static Tensor GroupNorm(Tensor input, long groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        Tensor.Wrap(Native.dt_group_norm(input.Handle, groups, OptionalHandle(weight), OptionalHandle(bias), eps, out var r), r);

    /// <summary>Zeroes elements with probability p and scales the rest by 1/(1-p) when training (F.dropout).</summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true) =>
        Tensor.Wrap(Native.dt_dropout(input.Handle, p, training ? 1 : 0, out var r), r);

    /// <summary>2-d max pooling (F.max_pool2d); stride defaults to the kernel size.</summary>
    public static Tensor MaxPool2d(Tensor input, (long H, long W) kernelSize, (long H, long W)? stride = null, (long H, long W)? padding = null,
        (long H, long W)? dilation = null, bool ceilMode = false)
    {
        var s = stride ?? kernelSize;
        var p = padding ?? (0, 0);
        var d = dilation ?? (1, 1);
        long* kp = stackalloc long[] { kernelSize.H, kernelSize.W };
        long* sp = stackalloc long[] { s.H, s.W };
        long* pp = stackalloc long[] { p.H, p.W };
        long* dp = stackalloc long[] { d.H, d.W };
        return Tensor.Wrap(Native.dt_max_pool2d(input.Handle, kp, sp, pp, dp, ceilMode ? 1 : 0, out var r), r);
    }

    /// <summary>2-d average pooling (F.avg_pool2d); stride defaults to the kernel size.</summary>
    public static Tensor AvgPool2d(Tensor input, (long H, long W) kernelSize, (long H, long W)? stride = null, (long H, long W)? padding = null,
        bool ceilMode = false, bool countIncludePad = true, long? divisorOverride = null)
    {
        var s = stride ?? kernelSize;
        var p = padding ?? (0, 0);
        long* kp = stackalloc long[] { kernelSize.H, kernelSize.W };
        long* sp = stackalloc long[] { s.H, s.W };
        long* pp = stackalloc long[] { p.H, p.W };
        return Tensor.Wrap(Native.dt_avg_pool2d(input.Handle, kp, sp, pp, ceilMode ? 1 : 0, countIncludePad ? 1 : 0, divisorOverride ?? 0, out var r), r);
    }

    /// <summary>Average pooling to a fixed output size (F.adaptive_avg_pool2d).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, (long H, long W) outputSize) => AdaptivePool(AdaptivePoolOp.Average, input, outputSize);

    /// <summary>Max pooling to a fixed output size (F.adaptive_max_pool2d, values only).</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, (long H, long W) outputSize) => AdaptivePool(AdaptivePoolOp.Max, input, outputSize);

    /// <summary>Resizes [N, C, H, W] to an output size (F.interpolate(size=...)).</summary>
    /// <param name="input">The input.</param>
    /// <param name="height">The output height.</param>
    /// <param name="width">The output width.</param>
    /// <param name="mode">Nearest or bilinear.</param>
    /// <param name="alignCorners">Bilinear only: PyTorch's align_corners (false when null).</param>
    public static Tensor Interpolate(Tensor input, long height, long width, InterpolationMode mode = InterpolationMode.Nearest, bool? alignCorners = null)
    {
        CheckAlignCorners(mode, alignCorners);
        long* size = stackalloc long[] { height, width };
        return Tensor.Wrap(Native.dt_interpolate(input.Handle, (int)mode, size, null, alignCorners == true ? 1 : 0, out var r), r);
    }

    /// <summary>Resizes [N, C, H, W] by scale factors (F.interpolate(scale_factor=...)); output floor(H * scale).</summary>
    public static Tensor Interpolate(Tensor input, double scaleH, double scaleW, InterpolationMode mode = InterpolationMode.Nearest, bool? alignCorners = null)
    {
        CheckAlignCorners(mode, alignCorners);
        double* scale = stackalloc double[] { scaleH, scaleW };
        return Tensor.Wrap(Native.dt_interpolate(input.Handle, (int)mode, null, scale, alignCorners == true ? 1 : 0, out var r), r);
    }

    /// <summary>Rows of <paramref name="weight"/> picked by indices (F.embedding); padding index rows get no gradient.</summary>
    public static Tensor Embedding(Tensor indices, Tensor weight, long? paddingIndex = null)
    {
        // As F.embedding: a negative padding index counts from the end; libtorch's -1 means none.
        var padding = paddingIndex is { } p ? (p < 0 ? weight.Size(0) + p : p) : -1;
        return Tensor.Wrap(Native.dt_embedding(weight.Handle, indices.Handle, padding, out var r), r);
    }

    /// <summary>Int64 class indices to one-hot Int64 vectors (F.one_hot); -1 infers the class count.</summary>
    public static Tensor OneHot(Tensor indices, long numClasses = -1) =>
        Tensor.Wrap(Native.dt_one_hot(indices.Handle, numClasses, out var r), r);

    /// <summary>Cosine similarity along dim (F.cosine_similarity).</summary>
    public static Tensor CosineSimilarity(Tensor a, Tensor b, long dim = 1, double eps = 1e-8) =>
        Tensor.Wrap(Native.dt_cosine_similarity(a.Handle, b.Handle, dim, eps, out var r), r);

    /// <summary>x / max(||x||_p, eps) along dim (F.normalize).</summary>
    public static Tensor Normalize(Tensor input, double p = 2, long dim = 1, double eps = 1e-12) =>
        Tensor.Wrap(Native.dt_normalize(input.Handle, p, dim, eps, out var r), r);

    /// <summary>
    /// softmax(q k^T * scale + mask) v, with dropout on the weights (F.scaled_dot_product_attention's math).
    /// A Bool mask keeps positions where it is true; a float mask is added to the scores.
    /// </summary>
    /// <param name="query">[..., L, E].</param>
    /// <param name="key">[..., S, E].</param>
    /// <param name="value">[..., S, Ev].</param>
    /// <param name="mask">Optional [..., L, S] mask.</param>
    /// <param name="dropoutP">Dropout on the attention weights.</param>
    /// <param name="isCausal">Masks positions after the query's own.</param>
    /// <param name="scale">The score scale; null for 1/sqrt(E).</param>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null, double dropoutP = 0,
        bool isCausal = false, double? scale = null) =>
        Tensor.Wrap(Native.dt_attention(query.Handle, key.Handle, value.Handle, OptionalHandle(mask), dropoutP, isCausal ? 1 : 0, scale ?? 0, out var r), r);

    internal static TensorHandle OptionalHandle(Tensor? t) => t?.Handle ?? TensorHandle.Null;

    private static Tensor AdaptivePool(AdaptivePoolOp op, Tensor input, (long H, long W) outputSize)
    {
        long* size = stackalloc long[] { outputSize.H, outputSize.W };
        return Tensor.Wrap(Native.dt_adaptive_pool2d((int)op, input.Handle, size, out var r), r);
    }

    private static void CheckAlignCorners(InterpolationMode mode, bool? alignCorners)
    {
        if (mode == InterpolationMode.Nearest && alignCorners is not null)
        {
            throw new ArgumentException("align_corners only applies to bilinear interpolation", nameof(alignCorners));
        }
    }
}
