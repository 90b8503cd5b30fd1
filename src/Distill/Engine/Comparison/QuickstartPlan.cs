using Distill.Configs;

namespace Distill.Engine.Comparison;

/// <summary>The quickstart's resolved recipes: the teacher's and one per student run.</summary>
/// <param name="Teacher">The teacher's recipe (its student section is the teacher; output: its run folder in the cache).</param>
/// <param name="TeacherCheckpoint">The teacher's cache file, keyed by its resolved recipe.</param>
/// <param name="Students">The students: the student alone first, then each method, one recipe per seed.</param>
/// <param name="TrainImages">Training images of the data set as the recipes use it.</param>
/// <param name="TestImages">Test images.</param>
public sealed record QuickstartPlan(RunConfig Teacher, string TeacherCheckpoint, IReadOnlyList<ComparisonEntry> Students, int TrainImages, int TestImages);
