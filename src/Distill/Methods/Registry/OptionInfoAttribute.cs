namespace Distill.Methods;

/// <summary>
/// Describes one property of a method's <see cref="MethodOptions"/> record as a recipe option: what it means, its
/// lower bound, its allowed values, and the official code's names for it. The recipe key is the snake_case of the
/// property name ("CeWeight" -> "ce_weight") unless <see cref="Key"/> says otherwise; the default is the property's
/// initialiser.
/// </summary>
/// <param name="description">What the option does, one line (`distill methods`, `--describe`).</param>
[AttributeUsage(AttributeTargets.Property, Inherited = true, AllowMultiple = false)]
public sealed class OptionInfoAttribute(string description) : Attribute
{
    /// <summary>What the option does, one line.</summary>
    public string Description { get; } = description;

    /// <summary>The recipe key, when it is not the snake_case of the property name.</summary>
    public string? Key { get; set; }

    /// <summary>The smallest allowed value of a number or an integer (inclusive); 0 unless stated.</summary>
    public double Minimum { get; set; }

    /// <summary>The values a choice (a string option) may take; empty: any string.</summary>
    public string[] Choices { get; set; } = [];

    /// <summary>Other keys for the same option: the official code's names, e.g. "kd_T".</summary>
    public string[] Aliases { get; set; } = [];

    /// <summary>
    /// For an option whose default depends on other options (a nullable property, null when not given): the name of
    /// the record's get-only property that resolves it; its value on a default record is the default shown.
    /// </summary>
    public string? ResolvedBy { get; set; }
}
