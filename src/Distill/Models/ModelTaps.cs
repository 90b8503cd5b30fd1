using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// Recorded tap outputs by tap name (a published tap or a module path); dispose to remove the hooks.
/// A map read here is checked against the shape the model's dry run recorded for it (all dimensions but
/// the batch), so a method built for other sizes fails with both shapes named instead of deep inside.
/// </summary>
public sealed class ModelTaps : IFeatureMaps, IDisposable
{
    private readonly FeatureTaps _taps;
    private readonly Dictionary<string, string> _paths;
    private readonly Dictionary<string, long[]> _expected;
    private readonly string _origin;

    internal ModelTaps(FeatureTaps taps, Dictionary<string, string> paths, Dictionary<string, long[]> expected, string origin)
    {
        _taps = taps;
        _paths = paths;
        _expected = expected;
        _origin = origin;
    }

    /// <summary>The tapped names.</summary>
    public IEnumerable<string> Names => _paths.Keys;

    /// <summary>The latest output of the tap <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The name is not tapped.</exception>
    /// <exception cref="InvalidOperationException">The map's shape differs from the dry run's beyond the batch dimension.</exception>
    public Tensor this[string name]
    {
        get
        {
            if (!_paths.TryGetValue(name, out var path))
            {
                throw new KeyNotFoundException($"'{name}' is not tapped (tapped: {string.Join(", ", _paths.Keys)})");
            }

            var tensor = _taps[path];
            if (_expected.TryGetValue(path, out var expected))
            {
                var shape = tensor.Shape;
                if (shape.Length != expected.Length || !shape.AsSpan(1).SequenceEqual(expected.AsSpan(1)))
                {
                    var where = path == name ? $"tap '{name}'" : $"tap '{name}' (module {path})";
                    throw new InvalidOperationException(
                        $"{where} arrived as {Tensor.FormatShape(shape)} but the method was built for [B, {string.Join(", ", expected.Skip(1))}] ({_origin}): "
                        + "the training images must have the size the models were dry-run on");
                }
            }

            return tensor;
        }
    }

    /// <summary>Removes the hooks.</summary>
    public void Dispose() => _taps.Dispose();
}
