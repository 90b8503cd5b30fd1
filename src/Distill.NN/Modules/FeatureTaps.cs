using Distill.Torch;

namespace Distill.NN;

/// <summary>
/// Forward hooks on submodules, found by path, that keep each one's latest output: how distillation
/// methods read a model's intermediate features without touching its code (as torchdistill does).
/// The recorded tensors belong to the dispose scope of the forward pass that made them.
/// </summary>
public sealed class FeatureTaps : IDisposable
{
    private readonly Dictionary<string, Tensor> _outputs = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _hooks = [];

    internal FeatureTaps(Module model, IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var path in paths)
        {
            var module = model.GetSubmodule(path);
            _hooks.Add(module.RegisterForwardHook((m, _, output) =>
            {
                _outputs[path] = output as Tensor
                    ?? throw new InvalidOperationException($"tap '{path}' ({m.GetType().Name}) produced {output.GetType().Name}, not a tensor");
            }));
            Paths.Add(path);
        }
    }

    /// <summary>The tapped paths, in the order given.</summary>
    public List<string> Paths { get; } = [];

    /// <summary>The latest output recorded at <paramref name="path"/>.</summary>
    /// <exception cref="KeyNotFoundException">The path is not tapped, or no forward has run since.</exception>
    public Tensor this[string path] =>
        _outputs.TryGetValue(path, out var t)
            ? t
            : throw new KeyNotFoundException(Paths.Contains(path) ? $"tap '{path}' has recorded nothing yet: run a forward pass first" : $"'{path}' is not tapped (taps: {string.Join(", ", Paths)})");

    /// <summary>Forgets the recorded outputs (they stay owned by their scope).</summary>
    public void Clear() => _outputs.Clear();

    /// <summary>Removes the hooks.</summary>
    public void Dispose()
    {
        foreach (var h in _hooks)
        {
            h.Dispose();
        }

        _hooks.Clear();
        _outputs.Clear();
    }
}
