using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// An image classifier of the zoo: logits from images, plus published feature taps (stem, stage outputs
/// after ReLU, the same stages before their final ReLU, the pooled vector, the logits) and the
/// batch-norm-before-ReLU module of each stage (OFD and Matching Guided Distillation read its statistics).
/// Taps are reached by module path through forward hooks, so the model's forward stays its own.
/// </summary>
public abstract class ClassificationModel : Module<Tensor, Tensor>
{
    private readonly List<TapInfo> _taps = [];
    private readonly List<string> _bnBeforeRelu = [];

    /// <summary>The published taps, in order.</summary>
    public IReadOnlyList<TapInfo> Taps => _taps;

    /// <summary>Module paths of the BN whose output feeds each stage's final ReLU (stage 1 first).</summary>
    public IReadOnlyList<string> BnBeforeRelu => _bnBeforeRelu;

    /// <summary>
    /// The final linear classifier (the "logits" tap's module, or the last Linear of it when it is a
    /// Sequential such as dropout + linear): SDD applies it to region features.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model's head is not a linear layer.</exception>
    public Linear Head
    {
        get
        {
            var path = _taps.First(t => t.Name == "logits").ModulePath;
            var module = GetSubmodule(path);
            if (module is Sequential sequential)
            {
                module = Enumerable.Range(0, sequential.Count).Select(i => sequential[i]).OfType<Linear>().LastOrDefault() ?? module;
            }

            return module as Linear ?? throw new InvalidOperationException($"{GetType().Name}'s head '{path}' is a {module.GetType().Name}, not a linear layer");
        }
    }

    /// <summary>Starts recording the named taps on every forward; dispose to stop.</summary>
    /// <exception cref="KeyNotFoundException">A name is not published; the message lists the ones that are.</exception>
    public ModelTaps TapFeatures(params IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var info = _taps.FirstOrDefault(t => t.Name == name)
                ?? throw new KeyNotFoundException($"{GetType().Name} has no tap '{name}' (taps: {string.Join(", ", _taps.Select(t => t.Name))})");
            map[name] = info.ModulePath;
        }

        return new ModelTaps(Tap(map.Values.Distinct(StringComparer.Ordinal)), map);
    }

    /// <summary>
    /// Runs one zero image of size channels x height x width in eval mode under no-grad and returns every
    /// tap's shape (batch dimension 1), restoring the training mode afterwards.
    /// </summary>
    public IReadOnlyList<(string Tap, long[] Shape)> DryRun(long channels, long height, long width)
    {
        var training = IsTraining;
        Eval();
        try
        {
            using var scope = DisposeScope.Enter();
            using var noGrad = Autograd.NoGrad();
            using var taps = TapFeatures(_taps.Select(t => t.Name));
            Forward(Tensor.Zeros([1, channels, height, width], device: Parameters().FirstOrDefault()?.Device ?? Device.Cpu));
            return _taps.Select(t => (t.Name, taps[t.Name].Shape)).ToArray();
        }
        finally
        {
            Train(training);
        }
    }

    /// <summary>Publishes a tap.</summary>
    protected void AddTap(string name, string modulePath) => _taps.Add(new TapInfo(name, modulePath));

    /// <summary>Publishes the BN-before-ReLU module of the next stage.</summary>
    protected void AddBnBeforeRelu(string modulePath) => _bnBeforeRelu.Add(modulePath);

    /// <summary>
    /// Publishes the usual taps of a staged network: stem, stage i and stage i.preact for each stage,
    /// pooled and logits.
    /// </summary>
    protected void AddStandardTaps(string stem, IReadOnlyList<(string Output, string Preact)> stages, string pooled, string logits)
    {
        ArgumentNullException.ThrowIfNull(stages);
        AddTap("stem", stem);
        for (var i = 0; i < stages.Count; i++)
        {
            AddTap($"stage{i + 1}", stages[i].Output);
            AddTap($"stage{i + 1}.preact", stages[i].Preact);
        }

        AddTap("pooled", pooled);
        AddTap("logits", logits);
    }
}
