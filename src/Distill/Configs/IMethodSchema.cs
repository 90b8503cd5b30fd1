namespace Distill.Configs;

/// <summary>
/// The methods a recipe may name and the options each one takes: what <see cref="ConfigLoader"/> checks a
/// recipe's method section (and method options given as text) against. Configs owns this view so that it
/// does not depend on the method registry; the engine supplies it (<c>Distill.Engine.Recipes.Methods</c>).
/// </summary>
public interface IMethodSchema
{
    /// <summary>Every method name a recipe may give, in the order messages list them ("none" first).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>The method named <paramref name="name"/>, or null when there is none.</summary>
    MethodSpec? Find(string name);
}
