using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// A network whose intermediate features distillation methods can read without touching its forward:
/// published taps (stem, stages before and after their final ReLU, pooled vector, task outputs), the
/// batch-norm-before-ReLU module of each stage (OFD and Matching Guided Distillation read its statistics),
/// its heads as named parts, and a dry run that records every tap's shape. A tap is reached by its
/// published name or by the raw dotted path of any submodule (as torchdistill's forward hooks by path):
/// either way a forward hook records the module's output. Classifiers, segmenters and detectors derive
/// from it and add only their heads and task outputs.
/// </summary>
/// <typeparam name="TOutput">What the forward returns (logits for a classifier).</typeparam>
public abstract class TappedModel<TOutput> : Module<Tensor, TOutput>
    where TOutput : notnull
{
    private readonly List<TapInfo> _taps = [];
    private readonly List<string> _bnBeforeRelu = [];
    private readonly List<HeadInfo> _heads = [];
    private Dictionary<string, long[]> _dryRunShapes = new(StringComparer.Ordinal);
    private long[] _dryRunInput = [];

    /// <summary>The published taps, in order.</summary>
    public IReadOnlyList<TapInfo> Taps => _taps;

    /// <summary>Module paths of the BN whose output feeds each stage's final ReLU (stage 1 first).</summary>
    public IReadOnlyList<string> BnBeforeRelu => _bnBeforeRelu;

    /// <summary>The model's heads by name, in the order they were added.</summary>
    public virtual IReadOnlyList<HeadInfo> Heads => _heads;

    /// <summary>
    /// Whether this model's inputs legitimately change height and width from batch to batch after its dry run
    /// (dense tasks train on crops of several sizes and evaluate on whole images); false for the classifiers,
    /// which see one image size. It decides how <see cref="TapFeatures"/> checks the maps that arrive: see
    /// <see cref="ModelTaps"/>.
    /// </summary>
    public virtual bool InputSizeVaries => false;

    /// <summary>The module paths that can be tapped: every submodule's dotted path (the model itself, "", excluded).</summary>
    public IEnumerable<string> ModulePaths => NamedModules().Select(m => m.Path).Where(p => p.Length > 0);

    /// <summary>The head module called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such head; the message lists the heads.</exception>
    public Module HeadModule(string name)
    {
        var head = Heads.FirstOrDefault(h => h.Name == name)
            ?? throw new KeyNotFoundException($"{GetType().Name} has no head '{name}' (heads: {string.Join(", ", Heads.Select(h => h.Name).DefaultIfEmpty("none"))})");
        return GetSubmodule(head.ModulePath);
    }

    /// <summary>
    /// The module path a tap name stands for: a published tap's module, or the name itself when it is the
    /// path of a submodule.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Neither; the message lists the published taps and the closest module paths.</exception>
    public string TapPath(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_taps.FirstOrDefault(t => t.Name == name) is { } info)
        {
            return info.ModulePath;
        }

        if (name.Length > 0 && NamedModules().Any(m => m.Path == name))
        {
            return name;
        }

        throw new KeyNotFoundException(TapNames.Unknown(GetType().Name, name, _taps.Select(t => t.Name), ModulePaths));
    }

    /// <summary>
    /// Starts recording the named taps (published names or module paths) on every forward; dispose to stop.
    /// After a dry run, each recorded map is checked against the dry run's shape when it is read (see
    /// <see cref="ModelTaps"/> for what an input of another height and width may change).
    /// </summary>
    /// <exception cref="KeyNotFoundException">A name is neither published nor a module path; the message lists the published taps and the closest module paths.</exception>
    public ModelTaps TapFeatures(params IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            map[name] = TapPath(name);
        }

        var expected = map.Values.Distinct(StringComparer.Ordinal).Where(_dryRunShapes.ContainsKey)
            .ToDictionary(p => p, p => _dryRunShapes[p], StringComparer.Ordinal);
        var input = new ModelTaps.InputRecorder();
        var hook = RegisterForwardHook((_, x, _) => input.Record(x));
        return new ModelTaps(Tap(map.Values.Distinct(StringComparer.Ordinal)), hook, input, map, expected,
            new ModelTaps.DryRunInfo(GetType().Name, _dryRunInput, InputSizeVaries));
    }

    /// <summary>
    /// Runs one zero image of size channels x height x width in eval mode under no-grad and returns every
    /// published tap's shape (batch dimension 1), restoring the training mode afterwards. The output shape
    /// of every submodule is remembered (see <see cref="DryRunShape"/>), and taps started afterwards check
    /// the maps they record against it.
    /// </summary>
    public IReadOnlyList<(string Tap, long[] Shape)> DryRun(long channels, long height, long width)
    {
        var training = IsTraining;
        Eval();
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var hooks = new List<IDisposable>();
        try
        {
            foreach (var (path, module) in NamedModules())
            {
                hooks.Add(module.RegisterForwardHook((_, _, output) =>
                {
                    if (output is Tensor t)
                    {
                        shapes[path] = t.Shape;
                    }
                }));
            }

            using var scope = DisposeScope.Enter();
            using var noGrad = Autograd.NoGrad();
            Forward(Tensor.Zeros([1, channels, height, width], device: Parameters().FirstOrDefault()?.Device ?? Device.Cpu));
        }
        finally
        {
            foreach (var hook in hooks)
            {
                hook.Dispose();
            }

            Train(training);
        }

        _dryRunShapes = shapes;
        _dryRunInput = [channels, height, width];
        return _taps.Select(t => (t.Name, shapes.TryGetValue(t.ModulePath, out var s) ? s : throw new InvalidOperationException($"{GetType().Name}'s tap '{t.Name}' ({t.ModulePath}) produced no tensor in the dry run"))).ToArray();
    }

    /// <summary>The <see cref="DryRun(long, long, long)"/> on one image of <paramref name="options"/>' channels, height and width.</summary>
    public IReadOnlyList<(string Tap, long[] Shape)> DryRun(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return DryRun(options.InChannels, options.Height, options.Width);
    }

    /// <summary>The shape (batch dimension 1) the latest <see cref="DryRun(long, long, long)"/> recorded for a tap name or module path, or null.</summary>
    public long[]? DryRunShape(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var path = _taps.FirstOrDefault(t => t.Name == name)?.ModulePath ?? name;
        return _dryRunShapes.TryGetValue(path, out var shape) ? shape : null;
    }

    /// <summary>Every submodule path whose output the latest <see cref="DryRun(long, long, long)"/> recorded, with its shape, in module order.</summary>
    public IReadOnlyList<(string Path, long[] Shape)> DryRunModuleShapes() =>
        ModulePaths.Where(_dryRunShapes.ContainsKey).Select(p => (p, _dryRunShapes[p])).ToArray();

    /// <summary>Publishes a tap.</summary>
    protected void AddTap(string name, string modulePath) => _taps.Add(new TapInfo(name, modulePath));

    /// <summary>Publishes the BN-before-ReLU module of the next stage.</summary>
    protected void AddBnBeforeRelu(string modulePath) => _bnBeforeRelu.Add(modulePath);

    /// <summary>Names a head module.</summary>
    protected void AddHead(string name, string modulePath) => _heads.Add(new HeadInfo(name, modulePath));

    /// <summary>Publishes the taps of a staged backbone: stem, then stage i and stage i.preact for each stage.</summary>
    protected void AddStageTaps(string stem, IReadOnlyList<(string Output, string Preact)> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        AddTap("stem", stem);
        for (var i = 0; i < stages.Count; i++)
        {
            AddTap($"stage{i + 1}", stages[i].Output);
            AddTap($"stage{i + 1}.preact", stages[i].Preact);
        }
    }
}
