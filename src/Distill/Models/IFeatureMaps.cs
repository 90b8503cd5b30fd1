using Distill.Torch;

namespace Distill.Models;

/// <summary>Feature maps by tap name: a model's recorded taps, or tensors read from a file.</summary>
public interface IFeatureMaps
{
    /// <summary>The names available.</summary>
    IEnumerable<string> Names { get; }

    /// <summary>The map of tap <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The name is not available; the message lists those that are.</exception>
    Tensor this[string name] { get; }
}
