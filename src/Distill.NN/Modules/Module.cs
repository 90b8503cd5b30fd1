using System.Text;
using Distill.Torch;

namespace Distill.NN;

/// <summary>
/// The base of every layer and model, as torch.nn.Module: parameters, buffers and submodules registered
/// by name (dotted paths equal PyTorch's state_dict keys), train/eval mode, freezing, state dicts, and
/// forward hooks reached by module path. A module owns its tensors: dispose it to free them.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly OrderedDictionary<string, Tensor?> _parameters = new(StringComparer.Ordinal);
    private readonly OrderedDictionary<string, Tensor?> _buffers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nonPersistent = new(StringComparer.Ordinal);
    private readonly OrderedDictionary<string, Module?> _modules = new(StringComparer.Ordinal);
    private readonly List<Action<Module, object, object>> _forwardHooks = [];
    private bool _disposed;

    /// <summary>True in training mode (dropout active, batch norm uses and updates batch statistics).</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Parameters of this module and, with <paramref name="recurse"/>, of its submodules, each once, with dotted names.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(bool recurse = true) =>
        NamedMembers(m => m._parameters, recurse);

    /// <summary>Every parameter, each once (the optimizer's input).</summary>
    public IEnumerable<Tensor> Parameters(bool recurse = true) => NamedParameters(recurse).Select(p => p.Parameter);

    /// <summary>Buffers (running statistics and the like) with dotted names.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true) => NamedMembers(m => m._buffers, recurse);

    /// <summary>Direct submodules with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        foreach (var (name, module) in _modules)
        {
            if (module is not null)
            {
                yield return (name, module);
            }
        }
    }

    /// <summary>This module (named "") and every submodule, depth first, with dotted paths.</summary>
    public IEnumerable<(string Path, Module Module)> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Walk(this, string.Empty, seen);

        static IEnumerable<(string, Module)> Walk(Module m, string prefix, HashSet<Module> seen)
        {
            if (!seen.Add(m))
            {
                yield break;
            }

            yield return (prefix, m);
            foreach (var (name, child) in m.NamedChildren())
            {
                foreach (var item in Walk(child, prefix.Length == 0 ? name : $"{prefix}.{name}", seen))
                {
                    yield return item;
                }
            }
        }
    }

    /// <summary>The submodule at a dotted path ("layer1.0.conv1"); "" is this module.</summary>
    /// <exception cref="KeyNotFoundException">No such path; the message lists the children where the walk stopped.</exception>
    public Module GetSubmodule(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var current = this;
        if (path.Length == 0)
        {
            return current;
        }

        var walked = new List<string>();
        foreach (var part in path.Split('.'))
        {
            if (!current._modules.TryGetValue(part, out var next) || next is null)
            {
                var where = walked.Count == 0 ? GetType().Name : string.Join('.', walked);
                var children = string.Join(", ", current.NamedChildren().Select(c => c.Name));
                throw new KeyNotFoundException($"module path '{path}': {where} has no submodule '{part}' (it has: {(children.Length == 0 ? "none" : children)})");
            }

            walked.Add(part);
            current = next;
        }

        return current;
    }

    /// <summary>Sets training mode on this module and every submodule (torch.nn.Module.train).</summary>
    /// <returns>This module.</returns>
    public Module Train(bool mode = true)
    {
        foreach (var (_, m) in NamedModules())
        {
            m.IsTraining = mode;
        }

        return this;
    }

    /// <summary>Sets evaluation mode (torch.nn.Module.eval).</summary>
    /// <returns>This module.</returns>
    public Module Eval() => Train(false);

    /// <summary>Moves every parameter and buffer to a device in place; references to them stay valid (torch.nn.Module.to).</summary>
    /// <returns>This module.</returns>
    public Module To(Device device) => Convert(t => t.To(device), floatingOnly: false);

    /// <summary>Converts every floating parameter and buffer to a dtype in place (torch.nn.Module.to(dtype)).</summary>
    /// <returns>This module.</returns>
    public Module To(DType dtype)
    {
        if (!dtype.IsFloatingPoint())
        {
            throw new ArgumentException($"modules convert to floating dtypes only, not {dtype}", nameof(dtype));
        }

        return Convert(t => t.To(dtype), floatingOnly: true);
    }

    /// <summary>
    /// Lays out every 4-d floating parameter and buffer (convolution weights) in <paramref name="format"/>, in place
    /// (torch.nn.Module.to(memory_format=...)): with channels-last weights libtorch's CPU convolutions produce
    /// channels-last maps and skip reordering each activation. Values and shapes are unchanged; tensors held elsewhere
    /// (an optimizer's parameter list) stay the same objects.
    /// </summary>
    /// <returns>This module.</returns>
    public Module To(MemoryFormat format)
    {
        using var scope = DisposeScope.Enter();
        foreach (var t in Parameters().Concat(NamedBuffers().Select(b => b.Buffer)))
        {
            if (t.Dim == 4 && t.DType.IsFloatingPoint())
            {
                t.SetData(t.Contiguous(format));
            }
        }

        return this;
    }

    /// <summary>Stops gradients for every parameter (a frozen teacher or backbone).</summary>
    public void Freeze() => SetRequiresGrad(false);

    /// <summary>Lets gradients flow to every floating parameter again.</summary>
    public void Unfreeze() => SetRequiresGrad(true);

    /// <summary>Clears every parameter's gradient (set to none, as PyTorch 2's default).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters())
        {
            p.Grad = null;
        }
    }

    /// <summary>Number of parameter elements, or of trainable ones only.</summary>
    public long ParameterCount(bool trainableOnly = false) =>
        Parameters().Where(p => !trainableOnly || p.RequiresGrad).Sum(p => p.NumberOfElements);

    /// <summary>Calls <paramref name="action"/> on every submodule, then on this one (torch.nn.Module.apply).</summary>
    /// <returns>This module.</returns>
    public Module Apply(Action<Module> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        foreach (var (_, child) in NamedChildren())
        {
            child.Apply(action);
        }

        action(this);
        return this;
    }

    /// <summary>
    /// Parameters and persistent buffers by PyTorch state_dict key, in PyTorch's order. Values are
    /// detached views of the module's tensors (sharing storage), created in the current dispose scope.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var result = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, m) in NamedModules())
        {
            var prefix = path.Length == 0 ? string.Empty : path + ".";
            foreach (var (name, p) in m._parameters)
            {
                if (p is not null)
                {
                    result[prefix + name] = p.Detach();
                }
            }

            foreach (var (name, b) in m._buffers)
            {
                if (b is not null && !m._nonPersistent.Contains(name))
                {
                    result[prefix + name] = b.Detach();
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Copies values into the module's parameters and buffers (torch.nn.Module.load_state_dict). Every key
    /// is checked before anything is copied: shape mismatches always fail; missing and unexpected keys
    /// fail when <paramref name="strict"/>, else they are reported in the result.
    /// </summary>
    /// <exception cref="StateDictMismatchException">The report lists every missing, unexpected and mismatched key.</exception>
    public StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var result = CheckStateDict(state, strict);
        var own = StateDictTargets();
        using var scope = DisposeScope.Enter();
        using (Autograd.NoGrad())
        {
            foreach (var (key, target) in own)
            {
                if (state.TryGetValue(key, out var source))
                {
                    target.CopyFrom(source);
                }
            }
        }

        return result;
    }

    /// <summary>Checks a state dict against the model without copying anything (what <see cref="LoadStateDict"/> checks first).</summary>
    /// <exception cref="StateDictMismatchException">It would not load.</exception>
    public StateDictLoadResult CheckStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = StateDictTargets();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (key, target) in own)
        {
            if (state.TryGetValue(key, out var source) && !source.Shape.SequenceEqual(target.Shape))
            {
                mismatched.Add($"{key}: checkpoint {Tensor.FormatShape(source.Shape)}, model {Tensor.FormatShape(target.Shape)}");
            }
        }

        var result = new StateDictLoadResult(missing, unexpected, mismatched);
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            throw new StateDictMismatchException(GetType().Name, result);
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="hook"/>(module, input, output) after every forward of this module.
    /// Dispose the returned handle to remove it.
    /// </summary>
    public IDisposable RegisterForwardHook(Action<Module, object, object> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        _forwardHooks.Add(hook);
        return new HookHandle(() => _forwardHooks.Remove(hook));
    }

    /// <summary>
    /// Records the output of each submodule at the given paths on every forward (feature taps for
    /// distillation), without changing the model's code. Dispose the taps to remove the hooks.
    /// </summary>
    public FeatureTaps Tap(params IEnumerable<string> paths) => new(this, paths);

    /// <summary>Disposes every parameter, buffer and submodule.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var (_, t) in _parameters)
        {
            t?.Dispose();
        }

        foreach (var (_, t) in _buffers)
        {
            t?.Dispose();
        }

        foreach (var (_, m) in _modules)
        {
            m?.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>A PyTorch-style tree: each submodule on its line with its settings.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Describe(sb, 0);
        return sb.ToString();
    }

    /// <summary>The settings shown in <see cref="ToString"/> after the type name, e.g. "3, 16, kernel_size=(3, 3)".</summary>
    protected virtual string ExtraRepresentation() => string.Empty;

    /// <summary>
    /// Registers a parameter (or an absent one, as PyTorch's None bias): it leaves every dispose scope and requires grad.
    /// A parameter registered as absent may be registered again with a tensor (as PyTorch's register_parameter overwrites
    /// an entry of its parameters).
    /// </summary>
    /// <returns>The tensor.</returns>
    protected Tensor? RegisterParameter(string name, Tensor? tensor)
    {
        if (!(_parameters.TryGetValue(name, out var absent) && absent is null))
        {
            CheckName(name);
        }

        if (tensor is not null)
        {
            tensor.DetachFromScope();
            if (tensor.DType.IsFloatingPoint())
            {
                tensor.RequiresGrad = true;
            }
        }

        _parameters[name] = tensor;
        return tensor;
    }

    /// <summary>Registers a buffer: saved in the state dict unless not persistent, never trained.</summary>
    /// <returns>The tensor.</returns>
    protected Tensor? RegisterBuffer(string name, Tensor? tensor, bool persistent = true)
    {
        CheckName(name);
        tensor?.DetachFromScope();
        _buffers[name] = tensor;
        if (!persistent)
        {
            _nonPersistent.Add(name);
        }

        return tensor;
    }

    /// <summary>Registers a submodule under a name (its state dict keys get "name." in front).</summary>
    /// <returns>The module.</returns>
    protected T RegisterModule<T>(string name, T module)
        where T : Module
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(module);
        _modules[name] = module;
        return module;
    }

    /// <summary>Runs the registered forward hooks; typed modules call it after each forward.</summary>
    protected void RunForwardHooks(object input, object output)
    {
        for (var i = 0; i < _forwardHooks.Count; i++)
        {
            _forwardHooks[i](this, input, output);
        }
    }

    private Dictionary<string, Tensor> StateDictTargets()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, m) in NamedModules())
        {
            var prefix = path.Length == 0 ? string.Empty : path + ".";
            foreach (var (name, p) in m._parameters)
            {
                if (p is not null)
                {
                    result[prefix + name] = p;
                }
            }

            foreach (var (name, b) in m._buffers)
            {
                if (b is not null && !m._nonPersistent.Contains(name))
                {
                    result[prefix + name] = b;
                }
            }
        }

        return result;
    }

    private IEnumerable<(string, Tensor)> NamedMembers(Func<Module, OrderedDictionary<string, Tensor?>> select, bool recurse)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var modules = recurse ? NamedModules() : [(string.Empty, this)];
        foreach (var (path, m) in modules)
        {
            foreach (var (name, t) in select(m))
            {
                if (t is not null && seen.Add(t))
                {
                    yield return (path.Length == 0 ? name : $"{path}.{name}", t);
                }
            }
        }
    }

    private Module Convert(Func<Tensor, Tensor> convert, bool floatingOnly)
    {
        using var scope = DisposeScope.Enter();
        foreach (var t in Parameters().Concat(NamedBuffers().Select(b => b.Buffer)))
        {
            if (!floatingOnly || t.DType.IsFloatingPoint())
            {
                t.SetData(convert(t));
            }
        }

        return this;
    }

    private void SetRequiresGrad(bool requiresGrad)
    {
        foreach (var p in Parameters())
        {
            if (p.DType.IsFloatingPoint())
            {
                p.RequiresGrad = requiresGrad;
            }
        }
    }

    private void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"member name '{name}' contains '.', which separates paths", nameof(name));
        }

        var taken = (_parameters.ContainsKey(name) ? 1 : 0) + (_buffers.ContainsKey(name) ? 1 : 0) + (_modules.ContainsKey(name) ? 1 : 0);
        if (taken > 0)
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'", nameof(name));
        }
    }

    private void Describe(StringBuilder sb, int indent)
    {
        sb.Append(GetType().Name).Append('(').Append(ExtraRepresentation());
        var children = NamedChildren().ToList();
        if (children.Count > 0)
        {
            sb.Append('\n');
            foreach (var (name, child) in children)
            {
                sb.Append(' ', (indent + 1) * 2).Append('(').Append(name).Append("): ");
                child.Describe(sb, indent + 1);
                sb.Append('\n');
            }

            sb.Append(' ', indent * 2);
        }

        sb.Append(')');
    }

    private sealed class HookHandle(Action remove) : IDisposable
    {
        private Action? _remove = remove;

        public void Dispose()
        {
            _remove?.Invoke();
            _remove = null;
        }
    }
}
