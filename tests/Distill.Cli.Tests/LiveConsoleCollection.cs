using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// Tests that train through the CLI draw Spectre.Console's live progress display, of which a process can show one at a
/// time: they run alone, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveConsoleCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "live console";
}
