namespace Distill.Models;

/// <summary>A named head of a tapped model: the submodule at <paramref name="ModulePath"/> that maps features to a task's outputs.</summary>
/// <param name="Name">"classifier" for the zoo's classifiers; dense models name theirs ("decode", "aux", "fcos", ...).</param>
/// <param name="ModulePath">The dotted path of the head module.</param>
public sealed record HeadInfo(string Name, string ModulePath);
