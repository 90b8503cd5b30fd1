using Distill.Configs;

namespace Distill.Engine.Comparison;

/// <summary>One row of a comparison before it runs: the method and its resolved recipe per seed.</summary>
/// <param name="Method">The method.</param>
/// <param name="Runs">One recipe per seed, each with its own output folder.</param>
public sealed record ComparisonEntry(ComparisonMethod Method, IReadOnlyList<RunConfig> Runs);
