using System.Collections;

namespace Distill.NN;

/// <summary>Submodules by name, in insertion order (torch.nn.ModuleDict); it has no forward of its own.</summary>
public sealed class ModuleDict : Module, IReadOnlyDictionary<string, Module>
{
    private readonly OrderedDictionary<string, Module> _items = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public int Count => _items.Count;

    /// <inheritdoc />
    public IEnumerable<string> Keys => _items.Keys;

    /// <inheritdoc />
    public IEnumerable<Module> Values => _items.Values;

    /// <inheritdoc />
    public Module this[string key] => _items.TryGetValue(key, out var m) ? m : throw new KeyNotFoundException($"no module named '{key}' (have: {string.Join(", ", _items.Keys)})");

    /// <summary>Adds a module under a new name.</summary>
    public void Add(string name, Module module)
    {
        RegisterModule(name, module);
        _items.Add(name, module);
    }

    /// <inheritdoc />
    public bool ContainsKey(string key) => _items.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Module value) => _items.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, Module>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
