using Distill.Export;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models.Detection;

/// <summary>
/// The FCOS head, shared by every pyramid level: a classification tower "cls_tower" and a regression tower
/// "bbox_tower", each <c>convs</c> x [3x3 conv with bias, GroupNorm, ReLU]; "cls_logits" (3x3 conv to K sigmoid
/// logits, bias -log((1 - 0.01) / 0.01)), "bbox_pred" (3x3 conv to l, t, r, b) times the level's learnable "scales.i"
/// then ReLU (the normalised-target form: distances in units of the level's stride, in training and at test), and
/// "centerness" (3x3 conv to one logit) on the regression tower or, optionally, the classification tower. Every conv
/// is N(0, 0.01) with bias 0 except the classifier's prior bias. Per level it returns [B, H * W, K + 5] (K logits,
/// l, t, r, b, centerness logit), and publishes the level's tower outputs and class logits through identity modules
/// "levels.pN.cls_tower", "levels.pN.reg_tower", "levels.pN.cls_logits" so each level can be tapped.
/// </summary>
public sealed class FcosHead : Module<Tensor[], Tensor[]>
{
    /// <summary>The classifier's prior probability (its bias is -log((1 - prior) / prior)).</summary>
    public const double PriorProbability = 0.01;

    private readonly Sequential _clsTower;
    private readonly Sequential _bboxTower;
    private readonly Conv2d _clsLogits;
    private readonly Conv2d _bboxPred;
    private readonly Conv2d _centerness;
    private readonly ModuleList _scales;
    private readonly ModuleDict _levels;
    private readonly string[] _levelNames;

    /// <summary>Creates the head.</summary>
    /// <param name="channels">The pyramid's width (the towers keep it).</param>
    /// <param name="numClasses">Classes K.</param>
    /// <param name="levelNames">The levels' names, finest first (one Scale each).</param>
    /// <param name="convs">Convs per tower (4 in FCOS).</param>
    /// <param name="groups">GroupNorm groups (32 in FCOS).</param>
    /// <param name="centernessOnRegression">Whether centerness reads the regression tower (FCOS's improved configs) instead of the classification tower.</param>
    public FcosHead(long channels, int numClasses, IReadOnlyList<string> levelNames, int convs, int groups, bool centernessOnRegression)
    {
        ArgumentNullException.ThrowIfNull(levelNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(convs, 0);
        _clsTower = RegisterModule("cls_tower", Tower(channels, convs, groups));
        _bboxTower = RegisterModule("bbox_tower", Tower(channels, convs, groups));
        _clsLogits = RegisterModule("cls_logits", new Conv2d(channels, numClasses, 3, 1, 1));
        _bboxPred = RegisterModule("bbox_pred", new Conv2d(channels, 4, 3, 1, 1));
        _centerness = RegisterModule("centerness", new Conv2d(channels, 1, 3, 1, 1));
        _scales = RegisterModule("scales", new ModuleList(levelNames.Select(_ => (Module)new Scale())));
        _levels = RegisterModule("levels", new ModuleDict());
        foreach (var name in levelNames)
        {
            var taps = new ModuleDict();
            taps.Add("cls_tower", new Identity());
            taps.Add("reg_tower", new Identity());
            taps.Add("cls_logits", new Identity());
            _levels.Add(name, taps);
        }

        _levelNames = [.. levelNames];
        NumClasses = numClasses;
        CenternessOnRegression = centernessOnRegression;
        foreach (var (_, m) in NamedModules())
        {
            if (m is Conv2d conv)
            {
                Init.Normal(conv.Weight, 0, 0.01);
                Init.Zeros(conv.Bias!);
            }
        }

        Init.Constant(_clsLogits.Bias!, PriorBias);
    }

    /// <summary>-log((1 - 0.01) / 0.01) = -4.59512: the classifier's initial bias.</summary>
    public static double PriorBias => -Math.Log((1 - PriorProbability) / PriorProbability);

    /// <summary>Classes K.</summary>
    public int NumClasses { get; }

    /// <summary>Whether centerness reads the regression tower.</summary>
    public bool CenternessOnRegression { get; }

    /// <summary>The module path (below the head) of level <paramref name="level"/>'s tap <paramref name="what"/> (cls_tower, reg_tower, cls_logits).</summary>
    public static string LevelTapModule(string level, string what) => $"levels.{level}.{what}";

    /// <inheritdoc />
    protected override Tensor[] ForwardCore(Tensor[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != _levelNames.Length)
        {
            throw new ArgumentException($"the FCOS head has {_levelNames.Length} levels, got {input.Length} maps", nameof(input));
        }

        var outputs = new Tensor[input.Length];
        for (var l = 0; l < input.Length; l++)
        {
            var taps = (ModuleDict)_levels[_levelNames[l]];
            var clsTower = ((Identity)taps["cls_tower"]).Forward(_clsTower.Forward(input[l]));
            var regTower = ((Identity)taps["reg_tower"]).Forward(_bboxTower.Forward(input[l]));
            var logits = ((Identity)taps["cls_logits"]).Forward(_clsLogits.Forward(clsTower));
            var box = F.Relu(((Scale)_scales[l]).Forward(_bboxPred.Forward(regTower)));
            var centerness = _centerness.Forward(CenternessOnRegression ? regTower : clsTower);
            var (b, h, w) = (logits.Shape[0], logits.Shape[2], logits.Shape[3]);
            outputs[l] = Tensor.Cat([logits, box, centerness], 1).Reshape(b, NumClasses + 5, h * w).Permute(0, 2, 1);
        }

        return outputs;
    }

    /// <summary>
    /// The ONNX nodes of the forward on the levels' values <paramref name="input"/>; returns each level's [B, H * W, K + 5].
    /// The shared convs and norms are applied on every level and their weights are stored once.
    /// </summary>
    internal string[] ExportOnnx(OnnxGraph graph, string[] input)
    {
        var outputs = new string[input.Length];
        for (var l = 0; l < input.Length; l++)
        {
            var hint = $"{graph.PathOf(this)}.{_levelNames[l]}";
            var clsTower = graph.Emit(_clsTower, input[l]);
            var regTower = graph.Emit(_bboxTower, input[l]);
            var logits = graph.Emit(_clsLogits, clsTower);
            var scale = (Scale)_scales[l];
            var box = graph.Relu(graph.Node("Mul", [graph.Emit(_bboxPred, regTower), graph.Weight(graph.PathOf(scale) + ".scale", scale.Value)], hint), hint);
            var centerness = graph.Emit(_centerness, CenternessOnRegression ? regTower : clsTower);
            var joined = graph.Concat([logits, box, centerness], 1, hint);
            outputs[l] = graph.Transpose(graph.Reshape(joined, hint, 0, NumClasses + 5, -1), hint, 0, 2, 1);
        }

        return outputs;
    }

    private static Sequential Tower(long channels, int convs, int groups)
    {
        var tower = new Sequential();
        for (var i = 0; i < convs; i++)
        {
            tower.Add(new Conv2d(channels, channels, 3, 1, 1));
            tower.Add(new GroupNorm(groups, channels));
            tower.Add(new ReLU());
        }

        return tower;
    }
}
