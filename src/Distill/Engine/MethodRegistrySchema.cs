using Distill.Configs;
using Distill.Methods;
using Distill.Schema;

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
        return new MethodSpec(descriptor.Name, [.. descriptor.Options.Select(Spec)], descriptor.NeedsTeacher) { Tasks = descriptor.AppliesTo };
    }

    private static OptionSpec Spec(MethodOption option) =>
        new(option.Key, option.Kind) { Minimum = option.Minimum, Allowed = option.Allowed, Aliases = option.Aliases };
}
