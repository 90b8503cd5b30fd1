using System.Globalization;
using Distill.Schema;

namespace Distill.Methods;

/// <summary>
/// One option of a method, as a recipe's method section or `distill check --set` names it: the key, its
/// type, the method's default and what it means. <see cref="Minimum"/> bounds numbers and integers;
/// <see cref="Allowed"/> lists the values of a choice; <see cref="Aliases"/> are the official code's names for the
/// same option (a recipe or a --flag may use either, not both).
/// </summary>
/// <param name="Key">The recipe key (snake_case), e.g. "temperature".</param>
/// <param name="Kind">The value type.</param>
/// <param name="Default">The default: double, int, bool, string, int[], double[] or string[] by kind.</param>
/// <param name="Description">What the option does, one line.</param>
public sealed record MethodOption(string Key, OptionKind Kind, object Default, string Description)
{
    /// <summary>The smallest allowed number (numbers and integers).</summary>
    public double Minimum { get; init; } = double.NegativeInfinity;

    /// <summary>The allowed values of a <see cref="OptionKind.Choice"/>.</summary>
    public IReadOnlyList<string> Allowed { get; init; } = [];

    /// <summary>Other keys for the same option: the official code's flag or config names, e.g. "ofa_eps" for "eps".</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The key and its aliases, the key first.</summary>
    public IEnumerable<string> Keys => [Key, .. Aliases];

    /// <summary>The key with its aliases, e.g. "eps (ofa_eps)".</summary>
    public string DisplayName => Aliases.Count == 0 ? Key : $"{Key} ({string.Join(", ", Aliases)})";

    /// <summary>This option, also accepted under <paramref name="aliases"/>.</summary>
    public MethodOption Alias(params string[] aliases) => this with { Aliases = [.. Aliases, .. aliases] };

    /// <summary>A real-number option.</summary>
    public static MethodOption Number(string key, double value, string description, double minimum = 0) =>
        new(key, OptionKind.Number, value, description) { Minimum = minimum };

    /// <summary>An integer option.</summary>
    public static MethodOption Integer(string key, int value, string description, int minimum = 0) =>
        new(key, OptionKind.Integer, value, description) { Minimum = minimum };

    /// <summary>A boolean option.</summary>
    public static MethodOption Flag(string key, bool value, string description) => new(key, OptionKind.Boolean, value, description);

    /// <summary>A free string option.</summary>
    public static MethodOption Text(string key, string value, string description) => new(key, OptionKind.Text, value, description);

    /// <summary>A choice among fixed strings.</summary>
    public static MethodOption Choice(string key, string value, string description, params string[] allowed) =>
        new(key, OptionKind.Choice, value, description) { Allowed = allowed };

    /// <summary>The default as recipe text, e.g. "4", "true", "[1, 2]".</summary>
    public string FormatDefault() => Format(Default);

    /// <summary>A value of this option as recipe text.</summary>
    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        "" => "\"\"",
        int[] list => "[" + string.Join(", ", list.Select(i => i.ToString(CultureInfo.InvariantCulture))) + "]",
        double[] list => "[" + string.Join(", ", list.Select(d => d.ToString("R", CultureInfo.InvariantCulture))) + "]",
        string[] list => "[" + string.Join(", ", list) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
