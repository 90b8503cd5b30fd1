using Distill.Configs;
using Distill.Methods;

namespace Distill.Engine;

/// <summary>
/// The method registry (<see cref="MethodFactory"/>) as the recipe loader sees it: names, and each method's options
/// as <see cref="OptionSpec"/>s. It reads the registry on every call, so methods registered later are known too.
/// </summary>
public sealed class MethodRegistrySchema : IMethodSchema
{
    private MethodRegistrySchema()
    {
    }

    /// <summary>The one instance (it holds no state).</summary>
    public static MethodRegistrySchema Instance { get; } = new();

    /// <inheritdoc/>
    public IReadOnlyList<string> Names => MethodFactory.Names;

    /// <inheritdoc/>
    public MethodSpec? Find(string name) => MethodFactory.Find(name) is { } descriptor ? Spec(descriptor) : null;

    /// <summary>A registered method as a recipe sees it.</summary>
    public static MethodSpec Spec(MethodDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return new MethodSpec(descriptor.Name, [.. descriptor.Options.Select(Spec)], descriptor.NeedsTeacher);
    }

    private static OptionSpec Spec(MethodOption option) =>
        new(option.Key, Kind(option.Kind)) { Minimum = option.Minimum, Allowed = option.Allowed, Aliases = option.Aliases };

    /// <summary>The loader's kind for a registry kind.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A kind the loader cannot read (a new one needs a case here).</exception>
    public static OptionKind Kind(MethodOptionKind kind) => kind switch
    {
        MethodOptionKind.Number => OptionKind.Number,
        MethodOptionKind.Integer => OptionKind.Integer,
        MethodOptionKind.Boolean => OptionKind.Boolean,
        MethodOptionKind.Text => OptionKind.Text,
        MethodOptionKind.Choice => OptionKind.Choice,
        MethodOptionKind.IntegerList => OptionKind.IntegerList,
        MethodOptionKind.StringList => OptionKind.StringList,
        MethodOptionKind.NumberList => OptionKind.NumberList,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no recipe kind for this method option kind"),
    };
}
