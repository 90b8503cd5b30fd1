using Xunit;

namespace Distill.Cli.Tests;

/// <summary>Tests that change the process's working directory: they run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkingDirectoryCollection
{
    public const string Name = "working directory";
}
