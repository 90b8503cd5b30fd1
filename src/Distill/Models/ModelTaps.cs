using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>Recorded tap outputs by tap name; dispose to remove the hooks.</summary>
public sealed class ModelTaps : IFeatureMaps, IDisposable
{
    private readonly FeatureTaps _taps;
    private readonly Dictionary<string, string> _paths;

    internal ModelTaps(FeatureTaps taps, Dictionary<string, string> paths)
    {
        _taps = taps;
        _paths = paths;
    }

    /// <summary>The tapped names.</summary>
    public IEnumerable<string> Names => _paths.Keys;

    /// <summary>The latest output of the tap <paramref name="name"/>.</summary>
    public Tensor this[string name] =>
        _paths.TryGetValue(name, out var path) ? _taps[path] : throw new KeyNotFoundException($"'{name}' is not tapped (tapped: {string.Join(", ", _paths.Keys)})");

    /// <summary>Removes the hooks.</summary>
    public void Dispose() => _taps.Dispose();
}
