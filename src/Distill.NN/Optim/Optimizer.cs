using Distill.Torch;

namespace Distill.NN.Optim;

/// <summary>
/// The base of SGD, Adam and AdamW: parameter groups, per-parameter state tensors, zeroing gradients,
/// and state that a checkpoint can save and restore. Steps run under no-grad with libtorch's in-place ops,
/// in the same order as PyTorch 1.13's single-tensor implementations, so trajectories match.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Dictionary<Tensor, Dictionary<string, Tensor>> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates the optimizer over groups, filling their defaults.</summary>
    protected Optimizer(IEnumerable<ParameterGroup> groups, double learningRate, double weightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentOutOfRangeException.ThrowIfNegative(learningRate);
        ArgumentOutOfRangeException.ThrowIfNegative(weightDecay);
        Groups = groups.ToArray();
        if (Groups.Count == 0 || Groups.All(g => g.Parameters.Count == 0))
        {
            throw new ArgumentException("the optimizer got an empty parameter list", nameof(groups));
        }

        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in Groups)
        {
            g.LearningRate = g.LearningRateOverride ?? learningRate;
            g.WeightDecay = g.WeightDecayOverride ?? weightDecay;
            foreach (var p in g.Parameters)
            {
                if (!seen.Add(p))
                {
                    throw new ArgumentException("a parameter appears in more than one group", nameof(groups));
                }
            }
        }
    }

    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = Autograd.NoGrad();
        foreach (var group in Groups)
        {
            foreach (var p in group.Parameters)
            {
                using var scope = DisposeScope.Enter();
                var grad = p.Grad;
                if (grad is not null)
                {
                    Update(group, p, grad);
                }
            }
        }
    }

    /// <summary>Clears every parameter's gradient (set to none, PyTorch 2's default).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Groups.SelectMany(g => g.Parameters))
        {
            p.Grad = null;
        }
    }

    /// <summary>
    /// The state tensors by "index.name" (index: the parameter's position over all groups, as in
    /// PyTorch's state_dict), e.g. "0.momentum_buffer", "3.exp_avg". Values are the live state tensors.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateTensors()
    {
        var result = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        var index = 0;
        foreach (var p in Groups.SelectMany(g => g.Parameters))
        {
            if (_state.TryGetValue(p, out var s))
            {
                foreach (var (name, t) in s)
                {
                    result[$"{index}.{name}"] = t;
                }
            }

            index++;
        }

        return result;
    }

    /// <summary>Restores state tensors saved by <see cref="StateTensors"/> (copies; shapes must match the parameters').</summary>
    /// <exception cref="ArgumentException">A key names no parameter, or a shape differs.</exception>
    public void LoadStateTensors(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var (p, name, value) in CheckStateTensors(state))
        {
            var s = StateOf(p);
            if (s.TryGetValue(name, out var old))
            {
                old.Dispose();
            }

            // As torch.optim.Optimizer.load_state_dict: state follows its parameter's device (a checkpoint saved on
            // one device resumes on another); a scalar "step" count stays where it was saved (on the host).
            s[name] = (name == "step" ? value.Clone() : value.To(value.DType, p.Device, copy: true)).Detach().DetachFromScope();
        }
    }

    /// <summary>Checks saved state against the parameters without changing anything.</summary>
    /// <exception cref="ArgumentException">A key names no parameter, or a shape differs from its parameter's.</exception>
    public IReadOnlyList<(Tensor Parameter, string Name, Tensor Value)> CheckStateTensors(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var parameters = Groups.SelectMany(g => g.Parameters).ToArray();
        var staged = new List<(Tensor Parameter, string Name, Tensor Value)>();
        foreach (var (key, value) in state)
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !int.TryParse(key.AsSpan(0, dot), out var index) || index < 0 || index >= parameters.Length)
            {
                throw new ArgumentException($"optimizer state key '{key}' names no parameter (there are {parameters.Length})", nameof(state));
            }

            var name = key[(dot + 1)..];
            var parameter = parameters[index];
            if (value.Dim > 0 && !value.Shape.SequenceEqual(parameter.Shape))
            {
                throw new ArgumentException(
                    $"optimizer state '{key}' has shape {Tensor.FormatShape(value.Shape)} but parameter {index} has {Tensor.FormatShape(parameter.Shape)}", nameof(state));
            }

            staged.Add((parameter, name, value));
        }

        return staged;
    }

    /// <summary>Frees the state tensors.</summary>
    public void Dispose()
    {
        foreach (var t in _state.Values.SelectMany(s => s.Values))
        {
            t.Dispose();
        }

        _state.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>Updates one parameter in place; runs under no-grad inside a dispose scope.</summary>
    protected abstract void Update(ParameterGroup group, Tensor parameter, Tensor grad);

    /// <summary>The named state of a parameter (created empty on first use).</summary>
    protected Dictionary<string, Tensor> StateOf(Tensor parameter)
    {
        if (!_state.TryGetValue(parameter, out var s))
        {
            s = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            _state[parameter] = s;
        }

        return s;
    }

    /// <summary>Keeps a tensor as optimizer state beyond the step's scope.</summary>
    protected static Tensor Keep(Tensor t) => t.DetachFromScope();
}
