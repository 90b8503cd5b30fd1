using Distill.Torch;

namespace Distill.Engine;

/// <summary>Copies of a model's module outputs by module path, in call order (a module called twice has two); disposing frees them.</summary>
internal sealed class ModuleOutputs : IDisposable, IEnumerable<KeyValuePair<string, List<Tensor>>>
{
    private readonly Dictionary<string, List<Tensor>> _outputs = new(StringComparer.Ordinal);

    /// <summary>Adds one output (owned from now on) of the module at <paramref name="path"/>.</summary>
    public void Add(string path, Tensor output) => (_outputs.TryGetValue(path, out var list) ? list : _outputs[path] = []).Add(output);

    /// <summary>The outputs recorded for <paramref name="path"/>.</summary>
    public bool TryGetValue(string path, out List<Tensor> outputs) => _outputs.TryGetValue(path, out outputs!);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, List<Tensor>>> GetEnumerator() => _outputs.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var tensor in _outputs.Values.SelectMany(l => l))
        {
            tensor.Dispose();
        }

        _outputs.Clear();
    }
}
