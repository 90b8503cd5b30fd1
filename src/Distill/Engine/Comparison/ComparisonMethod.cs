namespace Distill.Engine.Comparison;

/// <summary>One method of a comparison: its label in tables, the registry name, and its options as recipe overrides.</summary>
/// <param name="Label">The row's label (e.g. "alone", "kd", "dkd:warmup=2").</param>
/// <param name="Name">A method name of the registry (<see cref="Methods.MethodFactory.Names"/>).</param>
/// <param name="Options">The method section's keys as "key=value" (e.g. "temperature=2"), applied over the recipe's.</param>
public sealed record ComparisonMethod(string Label, string Name, IReadOnlyList<string> Options);
