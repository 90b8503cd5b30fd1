using System.Globalization;

namespace Distill.Configs;

/// <summary>
/// One key of a recipe's data, student, teacher, train or output part, stated once (<see cref="RecipeSchema"/>): its
/// name, what it holds, its bounds or allowed values, when it applies, and what it means. Its default is the
/// <see cref="RunConfig"/> records' own initialiser, read through <see cref="Get"/>. The loader reads and checks the key
/// with it, the writer writes it, a resume compares it, and the README's recipe tables are made from it.
/// </summary>
/// <param name="Section">data, student, teacher or train; empty for output.</param>
/// <param name="Name">The key within its section.</param>
/// <param name="Kind">What the key holds.</param>
/// <param name="Description">What the key means (the README's table).</param>
/// <param name="Get">The key's value in a config (null when unset, or when its section is absent).</param>
/// <param name="Set">The config with the key set to a value of the kind's type.</param>
internal sealed record RecipeKey(string Section, string Name, RecipeKeyKind Kind, string Description, Func<RunConfig, object?> Get, Func<RunConfig, object, RunConfig> Set)
{
    /// <summary>"section.key", or the key alone at the top level.</summary>
    public string Path => Section.Length == 0 ? Name : $"{Section}.{Name}";

    /// <summary>The smallest value of a number or integer.</summary>
    public double Minimum { get; init; } = double.NegativeInfinity;

    /// <summary>The largest value of a number.</summary>
    public double Maximum { get; init; } = double.PositiveInfinity;

    /// <summary>The values a choice or the names a name list may hold (read when asked: the model zoo's names).</summary>
    public Func<IReadOnlyList<string>>? AllowedValues { get; init; }

    /// <summary>The values a choice or the names a name list may hold; empty for any.</summary>
    public IReadOnlyList<string> Allowed => AllowedValues?.Invoke() ?? [];

    /// <summary>The values as the README states them, where the allowed list is long or holds spellings kept for older recipes.</summary>
    public string? Values { get; init; }

    /// <summary>Non-null for a key that must be given: the message's end after the key ("is required").</summary>
    public string? Required { get; init; }

    /// <summary>Written even at its default (the keys of the first release); the others are written only when they differ from it.</summary>
    public bool WrittenAtDefault { get; init; }

    /// <summary>A resume may change it (output, train.device): it does not change the result.</summary>
    public bool MayChangeOnResume { get; init; }

    /// <summary>When the key applies; null: always.</summary>
    public RecipeCondition? AppliesWhen { get; init; }

    /// <summary>A check of a given value beyond kind and bounds: the message, or null when the value is fine.</summary>
    public Func<object, string?>? Check { get; init; }

    /// <summary>The default: the value in a config made by the records' initialisers.</summary>
    public object? Default => Get(RecipeSchema.Defaults);

    /// <summary>The YAML text of <paramref name="value"/> as the writer writes it; null for null.</summary>
    public string? Format(object? value) => value switch
    {
        null => null,
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string s when Kind == RecipeKeyKind.Device => s,
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        IEnumerable<int> list => $"[{string.Join(", ", list.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]",
        IEnumerable<double> list => $"[{string.Join(", ", list.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]",
        IEnumerable<string> list => $"[{string.Join(", ", list)}]",
        _ => throw new InvalidOperationException($"{Path}: no YAML form for {value.GetType().Name}"),
    };

    /// <summary>Whether the writer writes the key for <paramref name="config"/>: set, applying, and either written at its default or not at it.</summary>
    public bool IsWritten(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = Format(Get(config));
        return text is not null && (AppliesWhen?.Holds(config) ?? true) && (WrittenAtDefault || text != Format(Default));
    }
}
