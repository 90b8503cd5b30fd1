namespace Distill.Methods;

/// <summary>
/// A method's option values: those a recipe gave, the method's defaults for the rest. Typed getters
/// fail loudly when the key is not one of the method's options (a programming error, not a user one:
/// recipes are checked against <see cref="MethodDescriptor.Options"/> when they are read).
/// </summary>
public sealed class MethodSettings
{
    private readonly MethodDescriptor _descriptor;
    private readonly IReadOnlyDictionary<string, object> _given;

    /// <summary>Wraps the values a recipe gave for <paramref name="descriptor"/>.</summary>
    public MethodSettings(MethodDescriptor descriptor, IReadOnlyDictionary<string, object> given)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(given);
        _descriptor = descriptor;

        // Values given under an alias (the official code's name) are kept under the option's key.
        var canonical = new Dictionary<string, object>(StringComparer.Ordinal);
        var spelled = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in given)
        {
            var name = descriptor.Option(key)?.Key
                ?? throw new ArgumentException($"method {descriptor.Name} has no option '{key}' (options: {string.Join(", ", descriptor.Keys)})");
            if (!canonical.TryAdd(name, value))
            {
                throw new ArgumentException($"method {descriptor.Name}: {spelled[name]} and {key} are the same option; give one");
            }

            spelled[name] = key;
        }

        _given = canonical;
    }

    /// <summary>The value of <paramref name="key"/>: the given one, else the default.</summary>
    /// <exception cref="KeyNotFoundException">The method has no such option.</exception>
    public object this[string key]
    {
        get
        {
            var option = _descriptor.Options.FirstOrDefault(o => o.Key == key)
                ?? throw new KeyNotFoundException($"method '{_descriptor.Name}' has no option '{key}'");
            return _given.TryGetValue(key, out var v) ? v : option.Default;
        }
    }

    /// <summary>The method's options record of <paramref name="type"/> with the given values over its defaults.</summary>
    /// <exception cref="ArgumentException">A value does not convert to its option's type.</exception>
    internal MethodOptions Bind(Type type) => OptionRecords.Bind(type, _descriptor.Name, _given);

    /// <summary>Whether the recipe set <paramref name="key"/>.</summary>
    public bool IsGiven(string key) => _given.ContainsKey(key);

    /// <summary>A number option.</summary>
    public double Number(string key) => this[key] is int i ? i : (double)this[key];

    /// <summary>An integer option.</summary>
    public int Integer(string key) => (int)this[key];

    /// <summary>A boolean option.</summary>
    public bool Flag(string key) => (bool)this[key];

    /// <summary>A choice option.</summary>
    public string Text(string key) => (string)this[key];

    /// <summary>An integer-list option.</summary>
    public IReadOnlyList<int> Integers(string key) => (int[])this[key];

    /// <summary>A number-list option.</summary>
    public IReadOnlyList<double> Numbers(string key) => (double[])this[key];

    /// <summary>A string-list option.</summary>
    public IReadOnlyList<string> Strings(string key) => (string[])this[key];
}
