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

    /// <summary>The task name of classification (the recipe's task key).</summary>
    public const string Classification = "classification";

    /// <summary>The task name of semantic segmentation.</summary>
    public const string Segmentation = "segmentation";

    /// <summary>The task name of object detection.</summary>
    public const string Detection = "detection";

    /// <summary>The tasks (recipe task names) the method applies to; classification unless its registration says more.</summary>
    public IReadOnlyList<string> AppliesTo { get; init; } = [Classification];

    /// <summary>
    /// Per task, the option values that replace the method's defaults there: the official code's values for that task
    /// (segmentation: CWD on the logit maps, MGD on the last stage with spatial masks, ...). A recipe's own values win.
    /// Typed as the recipe loader types them (numbers double, lists of names string lists).
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, object>> TaskPresets { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, object>>(StringComparer.Ordinal);

    /// <summary>The recipe's options over <paramref name="task"/>'s preset: what the method is built with on that task.</summary>
    public IReadOnlyDictionary<string, object> WithPreset(string task, IReadOnlyDictionary<string, object> given)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(given);
        if (!TaskPresets.TryGetValue(task, out var preset))
        {
            return given;
        }

        var merged = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in preset)
        {
            // A value the recipe gives under this key or one of its aliases replaces the preset's.
            if (Option(key) is not { } option || !given.Keys.Any(k => option.Keys.Contains(k)))
            {
                merged[key] = value;
            }
        }

        foreach (var (key, value) in given)
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>The option named <paramref name="key"/> (or one of its aliases), or null.</summary>
    public MethodOption? Option(string key) => Options.FirstOrDefault(o => o.Key == key || o.Aliases.Contains(key));

    /// <summary>Every key a recipe may use: each option's key and aliases.</summary>
    public IEnumerable<string> Keys => Options.SelectMany(o => o.Keys);

    /// <summary>The defaults as one line, aliases in parentheses, e.g. "temperature (kd_T) 4, ce_weight 0.1".</summary>
    public string Defaults => string.Join(", ", Options.Select(o => $"{o.DisplayName} {o.FormatDefault()}"));

    /// <summary>The method's options record (<see cref="For{TOptions}"/>), or null for a descriptor built from a list of options.</summary>
    public Type? OptionsType { get; init; }

    /// <summary>Builds the method from a typed options record (descriptors made by <see cref="For{TOptions}"/>).</summary>
    internal Func<MethodOptions, MethodContext, Distiller>? BuildTyped { get; init; }

    /// <summary>Builds the method from the recipe's values.</summary>
    public Distiller Create(IReadOnlyDictionary<string, object> given, MethodContext context) => Build(new MethodSettings(this, given), context);

    /// <summary>
    /// The descriptor of a method whose options are the record <typeparamref name="TOptions"/>: its options read from
    /// the record (declaration order, defaults from the initialisers), whether it needs a teacher from
    /// <see cref="MethodOptions.NeedsTeacher"/>, and string-keyed values bound onto the record and checked
    /// (minimum, choices) before <paramref name="build"/> runs.
    /// </summary>
    /// <exception cref="InvalidOperationException">The record has a settable property without an <see cref="OptionInfoAttribute"/> or of an unsupported type.</exception>
    public static MethodDescriptor For<TOptions>(string name, string title, string paper, Func<TOptions, MethodContext, Distiller> build)
        where TOptions : MethodOptions, new()
    {
        ArgumentNullException.ThrowIfNull(build);
        Distiller Typed(MethodOptions options, MethodContext context)
        {
            OptionRecords.Validate(name, options);
            return build((TOptions)options, context);
        }

        return new MethodDescriptor(name, title, paper, [.. OptionRecords.Of(typeof(TOptions)).Select(p => p.Option)],
            (settings, context) => Typed(settings.Bind(typeof(TOptions)), context))
        {
            NeedsTeacher = new TOptions().NeedsTeacher,
            OptionsType = typeof(TOptions),
            BuildTyped = Typed,
        };
    }
}
