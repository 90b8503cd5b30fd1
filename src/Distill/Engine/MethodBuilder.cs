using Distill.Configs;
using Distill.Methods;

namespace Distill.Engine;

/// <summary>Builds the distiller a recipe's method section describes, through the registry's name + options API.</summary>
public static class MethodBuilder
{
    /// <summary>The distiller <paramref name="method"/> describes, with the method's own defaults where the recipe is silent.</summary>
    /// <param name="method">The method's name and the options the recipe set.</param>
    /// <param name="context">The networks' shapes and what else the method reads (<see cref="MethodContext.Empty"/> when null).</param>
    /// <param name="task">The recipe's task: its preset (<see cref="MethodDescriptor.TaskPresets"/>) replaces the method's defaults.</param>
    /// <exception cref="ConfigException">The name is unknown, or the options or networks do not fit the method (the message says why).</exception>
    public static Distiller Create(MethodConfig method, MethodContext? context = null, string task = MethodDescriptor.Classification)
    {
        ArgumentNullException.ThrowIfNull(method);
        var descriptor = MethodFactory.Find(method.Name) ?? throw new ConfigException($"method '{method.Name}' is not one of {string.Join(", ", MethodFactory.Names)}");
        try
        {
            return descriptor.Create(descriptor.WithPreset(task, method.Options), context ?? MethodContext.Empty);
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException)
        {
            throw new ConfigException($"method {method.Name}: {e.Message}", e);
        }
    }
}
