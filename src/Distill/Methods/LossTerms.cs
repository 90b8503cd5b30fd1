using Distill.Torch;

namespace Distill.Methods;

/// <summary>Named, already weighted loss terms of one step (e.g. "ce" and "kd"); the trainer sums them.</summary>
public sealed class LossTerms
{
    private readonly List<(string Name, Tensor Value)> _terms = [];

    /// <summary>The terms in the order they were added.</summary>
    public IReadOnlyList<(string Name, Tensor Value)> Terms => _terms;

    /// <summary>Adds a scalar term.</summary>
    /// <exception cref="ArgumentException">The name is taken or the value is not a scalar.</exception>
    public LossTerms Add(string name, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (_terms.Any(t => t.Name == name))
        {
            throw new ArgumentException($"loss term '{name}' was added twice", nameof(name));
        }

        if (value.NumberOfElements != 1)
        {
            throw new ArgumentException($"loss term '{name}' must be a scalar; it has shape {Tensor.FormatShape(value.Shape)}", nameof(value));
        }

        _terms.Add((name, value));
        return this;
    }

    /// <summary>Adds every term of <paramref name="other"/> after these, in its order (e.g. a method's terms after the task's).</summary>
    /// <exception cref="ArgumentException">A term name is already here.</exception>
    public LossTerms AddRange(LossTerms other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (name, value) in other.Terms)
        {
            Add(name, value);
        }

        return this;
    }

    /// <summary>The term called <paramref name="name"/>.</summary>
    public Tensor this[string name] => _terms.FirstOrDefault(t => t.Name == name).Value
        ?? throw new KeyNotFoundException($"no loss term '{name}' (terms: {string.Join(", ", _terms.Select(t => t.Name))})");

    /// <summary>The sum of every term, the value to back-propagate.</summary>
    public Tensor Total()
    {
        if (_terms.Count == 0)
        {
            throw new InvalidOperationException("no loss terms to sum");
        }

        var total = _terms[0].Value;
        for (var i = 1; i < _terms.Count; i++)
        {
            total = total + _terms[i].Value;
        }

        return total;
    }
}
