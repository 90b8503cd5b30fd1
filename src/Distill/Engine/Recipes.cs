using Distill.Configs;

namespace Distill.Engine;

/// <summary>
/// Recipes read against the method registry: <see cref="ConfigLoader"/> with <see cref="MethodRegistrySchema"/>.
/// The CLI, the engine and the tests read recipes and method options through here.
/// </summary>
public static class Recipes
{
    /// <summary>The registered methods and their options, as the loader checks a method section against them.</summary>
    public static IMethodSchema Methods => MethodRegistrySchema.Instance;

    /// <summary>Loads <paramref name="path"/> and applies overrides such as "train.lr=0.01" in order.</summary>
    /// <exception cref="ConfigException">The file is missing or invalid, or an override is.</exception>
    public static RunConfig Load(string path, IEnumerable<string>? overrides = null) => ConfigLoader.Load(path, Methods, overrides);

    /// <summary>Loads a recipe from text; <paramref name="name"/> stands for the file in messages.</summary>
    /// <exception cref="ConfigException">The text is invalid, or an override is.</exception>
    public static RunConfig Parse(string yaml, string name = "config.yaml", IEnumerable<string>? overrides = null) => ConfigLoader.Parse(yaml, Methods, name, overrides);

    /// <summary>A method and its options from texts such as "temperature=2", "scales=[1, 2]" or "base=dkd" (see <see cref="ConfigLoader.ParseMethod"/>).</summary>
    /// <exception cref="ConfigException">The method, an option key or a value is unknown or malformed.</exception>
    public static MethodConfig Method(string name, IEnumerable<string> options) => ConfigLoader.ParseMethod(Methods, name, options);
}
