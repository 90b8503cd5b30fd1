using Distill.Export;
using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Models.Detection;

/// <summary>
/// The feature pyramid of FCOS: a 1x1 lateral conv per input ("lateral_pN"), a top-down path that starts from the
/// coarsest lateral and adds each coarser merged map, resized nearest to the exact size of the finer lateral, and a 3x3
/// output conv per merged map ("output_pN"); no norm, no activation. With <c>extraLevels</c> two more stride-2 3x3
/// convs follow: "p6" on the coarsest output (the inputs are already of the pyramid's width) and "p7" on ReLU(P6).
/// Every conv is Kaiming-uniform with a = 1 and bias 0.
/// </summary>
public sealed class FeaturePyramid : Module<Tensor[], Tensor[]>
{
    private readonly Conv2d[] _laterals;
    private readonly Conv2d[] _outputs;
    private readonly Conv2d? _p6;
    private readonly Conv2d? _p7;

    /// <summary>Creates the pyramid.</summary>
    /// <param name="inChannels">The inputs' channels, finest first.</param>
    /// <param name="channels">The pyramid's width.</param>
    /// <param name="firstLevel">The level number of the finest input (3 for C3 at stride 8, 2 for C2 at stride 4).</param>
    /// <param name="extraLevels">Whether to add P6 and P7.</param>
    public FeaturePyramid(IReadOnlyList<long> inChannels, long channels, int firstLevel, bool extraLevels)
    {
        ArgumentNullException.ThrowIfNull(inChannels);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels.Count, 1);
        _laterals = new Conv2d[inChannels.Count];
        _outputs = new Conv2d[inChannels.Count];
        var names = new List<string>();
        for (var i = 0; i < inChannels.Count; i++)
        {
            var name = $"p{firstLevel + i}";
            names.Add(name);
            _laterals[i] = RegisterModule("lateral_" + name, Init(new Conv2d(inChannels[i], channels, 1)));
            _outputs[i] = RegisterModule("output_" + name, Init(new Conv2d(channels, channels, 3, 1, 1)));
        }

        if (extraLevels)
        {
            var p6 = $"p{firstLevel + inChannels.Count}";
            var p7 = $"p{firstLevel + inChannels.Count + 1}";
            _p6 = RegisterModule(p6, Init(new Conv2d(channels, channels, 3, 2, 1)));
            _p7 = RegisterModule(p7, Init(new Conv2d(channels, channels, 3, 2, 1)));
            names.Add(p6);
            names.Add(p7);
        }

        LevelNames = names;
        Channels = channels;
    }

    /// <summary>The output levels' names, finest first ("p3" ... "p7").</summary>
    public IReadOnlyList<string> LevelNames { get; }

    /// <summary>The pyramid's width.</summary>
    public long Channels { get; }

    /// <summary>The module path (below the pyramid) whose output is level <paramref name="name"/>.</summary>
    public string LevelModule(string name) => _p6 is not null && (name == LevelNames[^1] || name == LevelNames[^2]) ? name : "output_" + name;

    /// <inheritdoc />
    protected override Tensor[] ForwardCore(Tensor[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != _laterals.Length)
        {
            throw new ArgumentException($"the feature pyramid takes {_laterals.Length} maps, got {input.Length}", nameof(input));
        }

        var results = new List<Tensor>();
        var last = _laterals[^1].Forward(input[^1]);
        results.Add(_outputs[^1].Forward(last));
        for (var i = input.Length - 2; i >= 0; i--)
        {
            var lateral = _laterals[i].Forward(input[i]);
            var topDown = F.Interpolate(last, lateral.Shape[2], lateral.Shape[3], InterpolationMode.Nearest);
            last = lateral + topDown;
            results.Insert(0, _outputs[i].Forward(last));
        }

        if (_p6 is not null && _p7 is not null)
        {
            var p6 = _p6.Forward(results[^1]);
            results.Add(p6);
            results.Add(_p7.Forward(F.Relu(p6)));
        }

        return [.. results];
    }

    /// <summary>The ONNX nodes of the forward on the values <paramref name="input"/>, finest first; returns the levels' values.</summary>
    internal string[] ExportOnnx(OnnxGraph graph, string[] input)
    {
        var path = graph.PathOf(this);
        var results = new List<string>();
        var last = graph.Emit(_laterals[^1], input[^1]);
        results.Add(graph.Emit(_outputs[^1], last));
        for (var i = input.Length - 2; i >= 0; i--)
        {
            var lateral = graph.Emit(_laterals[i], input[i]);
            last = graph.Add(lateral, graph.ResizeNearest(last, lateral, path), path);
            results.Insert(0, graph.Emit(_outputs[i], last));
        }

        if (_p6 is not null && _p7 is not null)
        {
            var p6 = graph.Emit(_p6, results[^1]);
            results.Add(p6);
            results.Add(graph.Emit(_p7, graph.Relu(p6, path)));
        }

        return [.. results];
    }

    private static Conv2d Init(Conv2d conv)
    {
        NN.Init.KaimingUniform(conv.Weight, a: 1);
        NN.Init.Zeros(conv.Bias!);
        return conv;
    }
}
