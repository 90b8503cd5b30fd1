using Distill.Torch;

namespace Distill.NN;

/// <summary>
/// Forward hooks on submodules, found by path, that keep each one's latest output: how distillation
/// methods read a model's intermediate features without touching its code (as torchdistill does).
/// Each recorded output is a separate handle owned by the taps, valid until the next forward or Dispose.
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
                var tensor = output as Tensor
                    ?? throw new InvalidOperationException($"tap '{path}' ({m.GetType().Name}) produced {output.GetType().Name}, not a tensor");

                // The module's output is freed when its parent returns; the tap keeps its own handle to
                // the same tensor (gradients still flow through it) until the next forward or Dispose.
                if (_outputs.TryGetValue(path, out var previous))
                {
                    previous.Dispose();
                }

                _outputs[path] = tensor.Alias().DetachFromScope();
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

    /// <summary>Releases the recorded outputs.</summary>
    public void Clear()
    {
        foreach (var t in _outputs.Values)
        {
            t.Dispose();
        }

        _outputs.Clear();
    }

    /// <summary>Removes the hooks.</summary>
    public void Dispose()
    {
        foreach (var h in _hooks)
        {
            h.Dispose();
        }

        _hooks.Clear();
        Clear();
    }
}
