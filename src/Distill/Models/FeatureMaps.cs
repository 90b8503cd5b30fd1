using Distill.Torch;

namespace Distill.Models;

/// <summary>Feature maps held in a dictionary (the parity harness reads them from a file).</summary>
public sealed class FeatureMaps : IFeatureMaps
{
    private readonly IReadOnlyDictionary<string, Tensor> _maps;

    /// <summary>Wraps <paramref name="maps"/>; <paramref name="side"/> ("student", "teacher") names them in errors.</summary>
    public FeatureMaps(IReadOnlyDictionary<string, Tensor> maps, string side)
    {
        ArgumentNullException.ThrowIfNull(maps);
        _maps = maps;
        Side = side;
    }

    /// <summary>Whose maps these are.</summary>
    public string Side { get; }

    /// <inheritdoc />
    public IEnumerable<string> Names => _maps.Keys;

    /// <inheritdoc />
    public Tensor this[string name] =>
        _maps.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"no {Side} feature map '{name}' (given: {string.Join(", ", _maps.Keys.DefaultIfEmpty("none"))})");
}
