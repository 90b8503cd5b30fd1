namespace Distill.Methods;

/// <summary>
/// A registered method: its short name, title and paper, its options with defaults, whether it needs a
/// teacher, and how to build it from option values and the networks' <see cref="MethodContext"/>.
/// </summary>
/// <param name="Name">The registry name, e.g. "kd".</param>
/// <param name="Title">What it is, e.g. "Knowledge distillation".</param>
/// <param name="Paper">Authors, venue and arXiv number.</param>
/// <param name="Options">The recipe options with their defaults.</param>
/// <param name="Build">Builds the method.</param>
public sealed record MethodDescriptor(string Name, string Title, string Paper, IReadOnlyList<MethodOption> Options,
    Func<MethodSettings, MethodContext, Distiller> Build)
{
    /// <summary>False for teacher-free methods (the run neither loads nor runs a teacher).</summary>
    public bool NeedsTeacher { get; init; } = true;

    /// <summary>The option named <paramref name="key"/> (or one of its aliases), or null.</summary>
    public MethodOption? Option(string key) => Options.FirstOrDefault(o => o.Key == key || o.Aliases.Contains(key));

    /// <summary>Every key a recipe may use: each option's key and aliases.</summary>
    public IEnumerable<string> Keys => Options.SelectMany(o => o.Keys);

    /// <summary>The defaults as one line, aliases in parentheses, e.g. "temperature (kd_T) 4, ce_weight 0.1".</summary>
    public string Defaults => string.Join(", ", Options.Select(o => $"{o.DisplayName} {o.FormatDefault()}"));

    /// <summary>Builds the method from the recipe's values.</summary>
    public Distiller Create(IReadOnlyDictionary<string, object> given, MethodContext context) => Build(new MethodSettings(this, given), context);
}
