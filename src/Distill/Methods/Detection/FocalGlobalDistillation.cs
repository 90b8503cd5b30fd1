using System.Globalization;
using Distill.NN;
using Distill.NN.Data;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Focal and global distillation for detectors (Yang et al., CVPR 2022), as the authors' FeatureLoss (yzd-v/FGD) computes
/// it on each FPN level, the levels' losses summed. On a level with student map S (through a 1×1 align conv with bias when
/// channels differ) and teacher map T, both [N, C, H, W]:
/// <list type="bullet">
/// <item>Masks from the ground-truth boxes: each box scaled to the level's grid by W / image width and H / image height (the
/// image size before padding), floor of x1, y1 and ceil of x2, y2, the cells from min to max inclusive set to the largest of
/// 1 / ((y_max + 1 − y_min)(x_max + 1 − x_min)) over the boxes covering them (M_fg); M_bg is 1 off every box, divided by its
/// sum. Crowd boxes are left out (the official code reads gt_bboxes, which hold no crowd boxes), so they are background.</item>
/// <item>Attention with temperature T: A_S = H·W·softmax_hw(mean_c |x| / T), A_C = C·softmax_c(mean_hw |x| / T).</item>
/// <item>L_fg = Σ M_fg A_S^t A_C^t (S − T)² / N, L_bg likewise with M_bg (written as the official code does, through square
/// roots of the weights), L_att = Σ |A_C^s − A_C^t| / N + Σ |A_S^s − A_S^t| / N.</item>
/// <item>L_glob = Σ (S + G_s(S) − T − G_t(T))² / N with two GcBlocks (student and teacher): context = x · softmax_hw(conv_mask(x)),
/// G(x) = conv1×1 → LayerNorm([C/2, 1, 1]) → ReLU → conv1×1 of the context; conv_mask Kaiming-normal (fan in), the last conv zero.</item>
/// </list>
/// Terms (the task adds its own): "fgd_fg" α Σ L_fg, "fgd_bg" β Σ L_bg, "fgd_att" γ Σ L_att, "fgd_glob" λ Σ L_glob; the
/// defaults are the official FCOS recipe's (T 0.8, α 1.6e-3, β 8e-4, γ 8e-4, λ 8e-6, every FPN level). The targets are the
/// step's <see cref="BoxBatch"/>. See docs/methods/fgd.md.
/// </summary>
public sealed class FocalGlobalDistillation : FeaturePairDistiller
{
    private readonly ModuleDict[] _levels;

    /// <summary>
    /// Creates the method from its options: the tap pairs <c>student_taps</c>/<c>teacher_taps</c> (empty: every FPN level
    /// of the student in <paramref name="context"/>, the teacher's taps of the same names) with the shapes the context gives.
    /// </summary>
    /// <exception cref="ArgumentException">A tap is not a feature map, the maps of a pair differ in H × W, or the student has no FPN levels and none are named.</exception>
    public FocalGlobalDistillation(Options options, MethodContext context)
        : this(options, Pairs(options ?? throw new ArgumentNullException(nameof(options)), context ?? throw new ArgumentNullException(nameof(context))))
    {
    }

    private FocalGlobalDistillation(Options options, TapPair[] pairs)
        : base(pairs, options.CeWeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Temperature);
        foreach (var (studentTap, studentShape, teacherTap, teacherShape) in pairs)
        {
            if (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3])
            {
                throw new ArgumentException($"fgd: the student's {studentTap} {Tensor.FormatShape(studentShape)} and the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} must have the same H x W");
            }

            if (teacherShape[1] < 2)
            {
                throw new ArgumentException($"fgd: the teacher's {teacherTap} {Tensor.FormatShape(teacherShape)} has {teacherShape[1]} channel; the GcBlock halves the channels, so at least 2 are needed");
            }
        }

        Temperature = options.Temperature;
        AlphaFg = options.AlphaFgd;
        BetaBg = options.BetaFgd;
        GammaAtt = options.GammaFgd;
        LambdaGlob = options.LambdaFgd;

        // Per level, in the official module's order: align, conv_mask_s/t, channel_add_conv_s/t (state_dict names as there).
        _levels = new ModuleDict[pairs.Length];
        var levels = RegisterModule("levels", new ModuleDict());
        for (var i = 0; i < pairs.Length; i++)
        {
            var c = pairs[i].TeacherShape[1];
            var level = new ModuleDict();
            if (AlignConv.Between(pairs[i].StudentShape[1], c) is { } align)
            {
                level.Add("align", align);
            }

            level.Add("conv_mask_s", ContextMask(c));
            level.Add("conv_mask_t", ContextMask(c));
            level.Add("channel_add_conv_s", ChannelAdd(c));
            level.Add("channel_add_conv_t", ChannelAdd(c));
            levels.Add(i.ToString(CultureInfo.InvariantCulture), level);
            _levels[i] = level;
        }
    }

    /// <inheritdoc />
    public override string Name => "fgd";

    /// <summary>The attention temperature T.</summary>
    public double Temperature { get; }

    /// <summary>α, the weight of the foreground term.</summary>
    public double AlphaFg { get; }

    /// <summary>β, the weight of the background term.</summary>
    public double BetaBg { get; }

    /// <summary>γ, the weight of the attention term.</summary>
    public double GammaAtt { get; }

    /// <summary>λ, the weight of the global (GcBlock) term.</summary>
    public double LambdaGlob { get; }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Targets is not BoxBatch boxes)
        {
            throw new ArgumentException($"fgd needs the step's ground-truth boxes; the step carries {inputs.Targets.Kind}");
        }

        Tensor? fg = null, bg = null, att = null, glob = null;
        for (var i = 0; i < PairCount; i++)
        {
            var (f, b, a, g) = LevelLoss(i, inputs.Student(StudentTaps[i]), inputs.Teacher(TeacherTaps[i]).Detach(), boxes);
            (fg, bg, att, glob) = fg is null ? (f, b, a, g) : (fg + f, bg! + b, att! + a, glob! + g);
        }

        return new LossTerms()
            .Add("fgd_fg", fg! * AlphaFg)
            .Add("fgd_bg", bg! * BetaBg)
            .Add("fgd_att", att! * GammaAtt)
            .Add("fgd_glob", glob! * LambdaGlob);
    }

    /// <summary>
    /// The foreground and background masks [N, H, W] of one level (H × W its grid) from the boxes, as the official code
    /// builds them: boxes scaled by W / image width and H / image height in float32, floor / ceil, inclusive cells, the
    /// largest 1 / area over overlapping boxes; the background 1 off every box, normalised to sum 1 per image (unless empty).
    /// Crowd boxes are skipped.
    /// </summary>
    public static (Tensor Foreground, Tensor Background) Masks(BoxBatch targets, long height, long width)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var n = targets.Boxes.Count;
        var (h, w) = ((int)height, (int)width);
        var fg = new float[n * h * w];
        var bg = new float[n * h * w];
        for (var i = 0; i < n; i++)
        {
            using var scope = DisposeScope.Enter();
            var boxes = targets.Boxes[i].To(DType.Float32, Device.Cpu, copy: true).ToArray<float>();
            var crowd = targets.Crowd.Count > i && targets.Crowd[i].NumberOfElements > 0 ? targets.Crowd[i].To(DType.Bool, Device.Cpu, copy: true).ToArray<bool>() : [];
            var (imageHeight, imageWidth) = targets.ImageSizes[i];
            var plane = fg.AsSpan(i * h * w, h * w);
            for (var j = 0; j < boxes.Length / 4; j++)
            {
                if (j < crowd.Length && crowd[j])
                {
                    continue;
                }

                // The official arithmetic: float32 x / img_w * W, floor / ceil to ints, 1.0 / (int) / (int).
                var wmin = (int)MathF.Floor(boxes[(4 * j) + 0] / imageWidth * width);
                var hmin = (int)MathF.Floor(boxes[(4 * j) + 1] / imageHeight * height);
                var wmax = (int)MathF.Ceiling(boxes[(4 * j) + 2] / imageWidth * width);
                var hmax = (int)MathF.Ceiling(boxes[(4 * j) + 3] / imageHeight * height);
                var area = (float)(1.0f / (float)(hmax + 1 - hmin) / (float)(wmax + 1 - wmin));

                // Python slices [min:max + 1] clip at the grid's end; boxes inside the image start at or after 0.
                for (var y = Math.Max(hmin, 0); y <= Math.Min(hmax, h - 1); y++)
                {
                    for (var x = Math.Max(wmin, 0); x <= Math.Min(wmax, w - 1); x++)
                    {
                        plane[(y * w) + x] = Math.Max(plane[(y * w) + x], area);
                    }
                }
            }

            var background = bg.AsSpan(i * h * w, h * w);
            var count = 0;
            for (var k = 0; k < plane.Length; k++)
            {
                background[k] = plane[k] > 0 ? 0 : 1;
                count += plane[k] > 0 ? 0 : 1;
            }

            if (count > 0)
            {
                for (var k = 0; k < background.Length; k++)
                {
                    background[k] /= count;
                }
            }
        }

        return (Tensor.From(fg, n, h, w), Tensor.From(bg, n, h, w));
    }

    /// <summary>The spatial attention H·W·softmax_hw(mean_c |x| / T) [N, H, W] and the channel attention C·softmax_c(mean_hw |x| / T) [N, C] of a map [N, C, H, W].</summary>
    public static (Tensor Spatial, Tensor Channel) Attention(Tensor map, double temperature)
    {
        ArgumentNullException.ThrowIfNull(map);
        var (n, c, h, w) = (map.Size(0), map.Size(1), map.Size(2), map.Size(3));
        var value = map.Abs();
        var feaMap = value.Mean(1, keepDim: true);
        var spatial = (F.Softmax((feaMap / temperature).View(n, -1), 1) * (h * w)).View(n, h, w);
        var channelMap = value.Mean(2).Mean(2);
        var channel = F.Softmax(channelMap / temperature, 1) * c;
        return (spatial, channel);
    }

    // One level's L_fg, L_bg, L_att and L_glob (unweighted).
    private (Tensor Fg, Tensor Bg, Tensor Att, Tensor Glob) LevelLoss(int i, Tensor student, Tensor teacher, BoxBatch boxes)
    {
        var level = _levels[i];
        if (level.TryGetValue("align", out var align))
        {
            student = ((Conv2d)align).Forward(student);
        }

        var (n, h, w) = (student.Size(0), student.Size(2), student.Size(3));
        if (boxes.Count != n)
        {
            throw new ArgumentException($"fgd: the step's boxes are for {boxes.Count} images and the maps {StudentTaps[i]} {Tensor.FormatShape(student.Shape)} for {n}");
        }

        var (spatialT, channelT) = Attention(teacher, Temperature);
        var (spatialS, channelS) = Attention(student, Temperature);
        var (maskFg, maskBg) = Masks(boxes, h, w);
        var (fgMask, bgMask) = (maskFg.To(student.Device).Unsqueeze(1), maskBg.To(student.Device).Unsqueeze(1));

        // get_fea_loss: both maps weighted by the teacher's attentions, through square roots as there.
        var sqrtS = spatialT.Unsqueeze(1).Sqrt();
        var sqrtC = channelT.Unsqueeze(-1).Unsqueeze(-1).Sqrt();
        var feaT = teacher * sqrtS * sqrtC;
        var feaS = student * sqrtS * sqrtC;
        var (sqrtFg, sqrtBg) = (fgMask.Sqrt(), bgMask.Sqrt());
        var fg = F.MseLoss(feaS * sqrtFg, feaT * sqrtFg, Reduction.Sum) / n;
        var bg = F.MseLoss(feaS * sqrtBg, feaT * sqrtBg, Reduction.Sum) / n;

        // get_mask_loss: L1 between the attentions, each divided by N.
        var att = ((channelS - channelT).Abs().Sum() / n) + ((spatialS - spatialT).Abs().Sum() / n);

        // get_rela_loss: each map plus its GcBlock's channel term.
        var outS = student + GlobalContext(student, (Conv2d)level["conv_mask_s"], (Sequential)level["channel_add_conv_s"]);
        var outT = teacher + GlobalContext(teacher, (Conv2d)level["conv_mask_t"], (Sequential)level["channel_add_conv_t"]);
        var glob = F.MseLoss(outS, outT, Reduction.Sum) / n;
        return (fg, bg, att, glob);
    }

    // spatial_pool then channel_add_conv: context [N, C, 1, 1] = x [N, 1, C, HW] @ softmax_hw(conv_mask(x)) [N, 1, HW, 1].
    private static Tensor GlobalContext(Tensor x, Conv2d convMask, Sequential channelAdd)
    {
        var (n, c, h, w) = (x.Size(0), x.Size(1), x.Size(2), x.Size(3));
        var input = x.View(n, c, h * w).Unsqueeze(1);
        var mask = F.Softmax(convMask.Forward(x).View(n, 1, h * w), 2).Unsqueeze(-1);
        var context = input.Matmul(mask).View(n, c, 1, 1);
        return channelAdd.Forward(context);
    }

    // conv_mask: 1x1 to one channel, mmcv's kaiming_init(mode='fan_in'): normal, ReLU gain, bias 0.
    private static Conv2d ContextMask(long channels)
    {
        var conv = new Conv2d(channels, 1, 1);
        using (Autograd.NoGrad())
        {
            Init.KaimingNormal(conv.Weight, mode: Init.FanMode.FanIn, nonlinearity: "relu");
            Init.Zeros(conv.Bias!);
        }

        return conv;
    }

    // channel_add_conv: conv1x1 C -> C/2, LayerNorm([C/2, 1, 1]), ReLU, conv1x1 C/2 -> C with weight and bias zero (last_zero_init).
    private static Sequential ChannelAdd(long channels)
    {
        var last = new Conv2d(channels / 2, channels, 1);
        using (Autograd.NoGrad())
        {
            Init.Zeros(last.Weight);
            Init.Zeros(last.Bias!);
        }

        return new Sequential(new Conv2d(channels, channels / 2, 1), new LayerNorm([channels / 2, 1, 1]), new ReLU(), last);
    }

    private static TapPair[] Pairs(Options options, MethodContext context)
    {
        if (options.StudentTaps.Count > 0 || options.TeacherTaps.Count > 0)
        {
            return Pairs(options.StudentTaps, options.TeacherTaps, string.Empty, string.Empty, context, "fgd");
        }

        var levels = context.StudentFpnLevels;
        return levels.Count > 0
            ? Pairs(levels, levels, string.Empty, string.Empty, context, "fgd")
            : throw new ArgumentException("fgd: the student publishes no FPN levels (taps fpn.p3, ...); name the maps with student_taps and teacher_taps");
    }

    /// <summary>The options of <c>fgd</c> (recipe keys, defaults: the official FCOS ResNet-101 → ResNet-50 recipe).</summary>
    public sealed record Options : MethodOptions
    {
        /// <summary>The student's maps, paired one by one with <see cref="TeacherTaps"/>; empty: every FPN level.</summary>
        [OptionInfo("the student's maps, paired one by one with teacher_taps (default: every FPN level fpn.pN, the teacher's of the same names)")]
        public IReadOnlyList<string> StudentTaps { get; init; } = [];

        /// <summary>The teacher's maps of the pairs, as many as <see cref="StudentTaps"/>.</summary>
        [OptionInfo("the teacher maps paired with student_taps, as many (default: the FPN levels)")]
        public IReadOnlyList<string> TeacherTaps { get; init; } = [];

        /// <summary>The attention temperature.</summary>
        [OptionInfo("attention temperature T (the official code's default is 0.5; its FCOS recipe 0.8)", Minimum = 1e-9, Aliases = ["temp"])]
        public double Temperature { get; init; } = 0.8;

        /// <summary>α, the foreground weight.</summary>
        [OptionInfo("alpha, the weight of the foreground term", Aliases = ["alpha"])]
        public double AlphaFgd { get; init; } = 1.6e-3;

        /// <summary>β, the background weight.</summary>
        [OptionInfo("beta, the weight of the background term", Aliases = ["beta"])]
        public double BetaFgd { get; init; } = 8e-4;

        /// <summary>γ, the attention weight.</summary>
        [OptionInfo("gamma, the weight of the attention term (spatial and channel, L1)", Aliases = ["gamma"])]
        public double GammaFgd { get; init; } = 8e-4;

        /// <summary>λ, the global weight.</summary>
        [OptionInfo("lambda, the weight of the global (GcBlock) term", Aliases = ["lambda"])]
        public double LambdaFgd { get; init; } = 8e-6;

        /// <summary>The task-loss weight.</summary>
        [OptionInfo("task-loss weight: the detection loss the trainer adds")]
        public double CeWeight { get; init; } = 1;
    }
}
