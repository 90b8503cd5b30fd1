using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// One-for-All heterogeneous KD (Hao et al., NeurIPS 2023; spec §7). Only the teacher's logits are used, so any
/// teacher works with any student (CNN → ViT, ViT → CNN). Each chosen student stage gets a projector to class
/// logits, and every logit vector is pulled toward the teacher with the adaptive target enhancement
/// L_ofa(s, t) = −(1/B) Σ_b Σ_k w_bk log softmax(s/τ)_bk, w = (softmax(t/τ) + m)^ε − m (m the one-hot label):
/// L = w_gt CE_ls(s, y) (label smoothing 0.1) + w_kd L_ofa(s, t; ε_last) + w_ofa Σ_i L_ofa(proj_i(f_i), t; ε_i).
/// Defaults: every stage, ε = [1] (one value for all stages and the logits, else one per stage plus one for the
/// logits; 1.5 for DeiT-T → ResNet18), τ = 1, weights 1.
/// <para>
/// Projectors, D = max(d_s, d_t) (the pooled sizes): for a CNN stage map [C, H, W], stage i of n gets n − i SepConv
/// blocks (depthwise 3×3 stride 2 → pointwise → BN → ReLU → depthwise 3×3 → pointwise → BN → ReLU; channels double,
/// the last block gives D), the last stage a 1×1 conv to D; then global average pooling and Linear(D → K). For ViT
/// tokens [L, E] (one class token), ⌊log₂(⌊√L⌋ / 7)⌋ PatchMerging layers (2×2 concat → LayerNorm → Linear, GELU
/// between) on the patch tokens, max(n − i, 1) pre-norm ViT blocks with 4 heads, the class token and Linear(→ K).
/// Kaiming-normal (fan-out, ReLU) convs, BN 1 / 0, Linear N(0, 0.02) (timm's truncation at ±2 never binds at that
/// std) with zero bias. Terms: "ce", "kd" and "ofa".
/// </para>
/// </summary>
public sealed class OneForAllDistillation : Distiller
{
    private readonly string[] _stages;
    private readonly double[] _eps;
    private readonly Sequential[] _projectors;

    /// <summary>Creates the method for student stage taps of the given shapes (with batch dimension), K classes and projector width D.</summary>
    /// <exception cref="ArgumentException">The ε list has the wrong length or a stage map is neither [B, C, H, W] nor [B, L, E].</exception>
    public OneForAllDistillation(IReadOnlyList<string> stages, IReadOnlyList<long[]> stageShapes, long numClasses, long projectorDim, IReadOnlyList<double> eps,
        double temperature = 1, double gtWeight = 1, double kdWeight = 1, double ofaWeight = 1, double labelSmoothing = 0.1)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(stageShapes);
        ArgumentNullException.ThrowIfNull(eps);
        ArgumentOutOfRangeException.ThrowIfZero(stages.Count);
        if (eps.Count != 1 && eps.Count != stages.Count + 1)
        {
            throw new ArgumentException($"ofa: eps has {eps.Count} values; give one, or {stages.Count + 1} (one per stage, then the logits')", nameof(eps));
        }

        _stages = [.. stages];
        _eps = eps.Count == 1 ? Enumerable.Repeat(eps[0], stages.Count + 1).ToArray() : [.. eps];
        Temperature = temperature;
        GtWeight = gtWeight;
        KdWeight = kdWeight;
        OfaWeight = ofaWeight;
        LabelSmoothing = labelSmoothing;
        var projectors = RegisterModule("projectors", new ModuleList());
        _projectors = new Sequential[stages.Count];
        for (var i = 0; i < stages.Count; i++)
        {
            var remaining = stages.Count - 1 - i;
            _projectors[i] = stageShapes[i].Length switch
            {
                4 => CnnProjector(stageShapes[i][1], remaining, projectorDim, numClasses),
                3 => TokenProjector(stageShapes[i][1], stageShapes[i][2], Math.Max(remaining, 1), numClasses),
                _ => throw new ArgumentException($"ofa: the student's {stages[i]} has shape {Tensor.FormatShape(stageShapes[i])}; a map [B, C, H, W] or tokens [B, L, E] is needed"),
            };
            projectors.Add(_projectors[i]);
        }

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

    /// <inheritdoc />
    public override string Name => "ofa";

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>The label-smoothed cross-entropy weight.</summary>
    public double GtWeight { get; }

    /// <summary>The weight of the final logits' OFA term.</summary>
    public double KdWeight { get; }

    /// <summary>The weight of the stage projectors' OFA terms.</summary>
    public double OfaWeight { get; }

    /// <summary>Label smoothing of the cross-entropy (0.1).</summary>
    public double LabelSmoothing { get; }

    /// <summary>ε per stage, then the logits'.</summary>
    public IReadOnlyList<double> Eps => _eps;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => _stages;

    /// <summary>−(1/B) Σ w log softmax(s/τ), w = (softmax(t/τ) + onehot(y))^ε − onehot(y).</summary>
    public static Tensor OfaLoss(Tensor student, Tensor teacher, Tensor labels, double eps, double temperature = 1)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(labels);
        var target = F.OneHot(labels, student.Size(1)).To(student.DType);
        var p = F.Softmax(teacher / temperature, 1);
        var weight = (p + target).Pow(eps) - target;
        return -(weight * F.LogSoftmax(student / temperature, 1)).Sum() / student.Size(0);
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var teacher = inputs.TeacherLogits ?? throw new InvalidOperationException("ofa needs teacher logits");
        Tensor? ofa = null;
        for (var i = 0; i < _stages.Length; i++)
        {
            var loss = OfaLoss(_projectors[i].Forward(inputs.Student(_stages[i])), teacher, inputs.Labels, _eps[i], Temperature);
            ofa = ofa is null ? loss : ofa + loss;
        }

        return new LossTerms()
            .Add("ce", F.CrossEntropy(inputs.StudentLogits, inputs.Labels, labelSmoothing: LabelSmoothing) * GtWeight)
            .Add("kd", OfaLoss(inputs.StudentLogits, teacher, inputs.Labels, _eps[^1], Temperature) * KdWeight)
            .Add("ofa", ofa! * OfaWeight);
    }

    private static Sequential CnnProjector(long channels, int blocks, long dim, long classes)
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

    private static Sequential SepConv(long input, long output) => new(
        new Conv2d(input, input, 3, stride: 2, padding: 1, groups: input, bias: false),
        new Conv2d(input, input, 1, bias: false),
        new BatchNorm2d(input),
        new ReLU(),
        new Conv2d(input, input, 3, padding: 1, groups: input, bias: false),
        new Conv2d(input, output, 1, bias: false),
        new BatchNorm2d(output),
        new ReLU());

    private static Sequential TokenProjector(long tokens, long dim, int blocks, long classes)
    {
        var grid = (long)Math.Floor(Math.Sqrt(tokens));
        var merges = Math.Max((int)Math.Floor(Math.Log2(grid / 7.0)), 0);
        var layers = new Sequential();
        for (var m = 0; m < merges; m++)
        {
            layers.Add(new PatchMerging(dim, activation: m < merges - 1 || merges == 1));
        }

        for (var b = 0; b < blocks; b++)
        {
            layers.Add(new TransformerEncoderLayer(dim, 4, dim * 4, dropout: 0, gelu: true, layerNormEps: 1e-6, batchFirst: true, normFirst: true));
        }

        layers.Add(new ClassToken());
        layers.Add(new Linear(dim, classes));
        return layers;
    }

    /// <summary>The first (class) token of [B, L, E] tokens.</summary>
    private sealed class ClassToken : Module<Tensor, Tensor>
    {
        protected override Tensor ForwardCore(Tensor input) => input.Select(1, 0);
    }

    /// <summary>
    /// Swin-style merging of the patch tokens (the class token passes through unchanged): each 2×2 neighbourhood
    /// concatenated (4E) → LayerNorm(4E) → Linear(4E → E, no bias) → GELU (when <c>activation</c>).
    /// </summary>
    private sealed class PatchMerging : Module<Tensor, Tensor>
    {
        private readonly LayerNorm _norm;
        private readonly Linear _reduction;
        private readonly GELU? _activation;

        public PatchMerging(long dim, bool activation)
        {
            _norm = RegisterModule("norm", new LayerNorm(4 * dim));
            _reduction = RegisterModule("reduction", new Linear(4 * dim, dim, bias: false));
            _activation = activation ? RegisterModule("act", new GELU()) : null;
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var (b, l, e) = (input.Size(0), input.Size(1), input.Size(2));
            var grid = (long)Math.Floor(Math.Sqrt(l - 1));
            var cls = input.Narrow(1, 0, 1);
            var patches = input.Narrow(1, 1, grid * grid).Reshape([b, grid / 2, 2, grid / 2, 2, e]).Permute([0, 1, 3, 4, 2, 5]).Reshape([b, (grid / 2) * (grid / 2), 4 * e]);
            var merged = _reduction.Forward(_norm.Forward(patches));
            if (_activation is not null)
            {
                merged = _activation.Forward(merged);
            }

            return Tensor.Cat([cls, merged], 1);
        }
    }
}
