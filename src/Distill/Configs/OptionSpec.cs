using Distill.Schema;
namespace Distill.Configs;

/// <summary>
/// One option of a method as a recipe's method section (or an option given as text, "temperature=2") sets it:
/// its key and aliases, the type of its value, and the bounds the loader checks.
/// </summary>
/// <param name="Key">The recipe key (snake_case), e.g. "temperature".</param>
/// <param name="Kind">The type of the value.</param>
public sealed record OptionSpec(string Key, OptionKind Kind)
{
    /// <summary>The smallest allowed value (<see cref="OptionKind.Number"/> and <see cref="OptionKind.Integer"/>).</summary>
    public double Minimum { get; init; } = double.NegativeInfinity;

    /// <summary>The allowed values of a <see cref="OptionKind.Choice"/>.</summary>
    public IReadOnlyList<string> Allowed { get; init; } = [];

    /// <summary>Other keys for the same option (the official code's names); a recipe gives one of them, not two.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The key and its aliases, the key first.</summary>
    public IEnumerable<string> Keys => [Key, .. Aliases];

    /// <summary>The key with its aliases, e.g. "eps (ofa_eps)".</summary>
    public string DisplayName => Aliases.Count == 0 ? Key : $"{Key} ({string.Join(", ", Aliases)})";
}
