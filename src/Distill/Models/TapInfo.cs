namespace Distill.Models;

/// <summary>A named feature a distillation method can read: the output of the submodule at <paramref name="ModulePath"/>.</summary>
/// <param name="Name">stem, stage1..N, stage1..N.preact, pooled or logits.</param>
/// <param name="ModulePath">The dotted path of the module whose forward output is the feature.</param>
public sealed record TapInfo(string Name, string ModulePath);
