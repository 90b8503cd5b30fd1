using Distill.Configs;

namespace Distill.Methods;

/// <summary>Builds a distiller from a recipe's method section ("none" gives null: cross-entropy only).</summary>
public static class MethodFactory
{
    /// <summary>The method names a recipe may use.</summary>
    public static IReadOnlyList<string> Names { get; } = ["none", "kd", "dkd", "ctkd"];

    /// <summary>The distiller the section describes, with the method's own defaults where the recipe is silent.</summary>
    /// <exception cref="ConfigException">The name is unknown.</exception>
    public static Distiller? Create(MethodConfig method)
    {
        ArgumentNullException.ThrowIfNull(method);
        return method.Name switch
        {
            "none" => null,
            "kd" => new KnowledgeDistillation(method.Temperature, method.CeWeight ?? 0.1, method.KdWeight, method.LogitStandardization),
            "dkd" => new DecoupledKnowledgeDistillation(method.Alpha, method.Beta, method.Temperature, method.CeWeight ?? 1.0, method.Warmup, method.LogitStandardization),
            "ctkd" => new CurriculumTemperatureDistillation(method.CeWeight ?? 0.1, method.KdWeight, logitStandardization: method.LogitStandardization),
            _ => throw new ConfigException($"method '{method.Name}' is not one of {string.Join(", ", Names)}"),
        };
    }
}
