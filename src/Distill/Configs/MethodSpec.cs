namespace Distill.Configs;

/// <summary>One method as a recipe sees it: its name, the options its method section may set, and whether it needs a teacher.</summary>
/// <param name="Name">The name a recipe gives as method.name, e.g. "kd".</param>
/// <param name="Options">The options, in the order the method lists them.</param>
/// <param name="NeedsTeacher">Whether the recipe must give teacher.model and teacher.checkpoint.</param>
public sealed record MethodSpec(string Name, IReadOnlyList<OptionSpec> Options, bool NeedsTeacher)
{
    /// <summary>The tasks (recipe task names) the method applies to; null: every task.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    /// <summary>Every key the method section may use: each option's key and aliases.</summary>
    public IEnumerable<string> Keys => Options.SelectMany(o => o.Keys);
}
