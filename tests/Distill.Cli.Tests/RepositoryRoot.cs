namespace Distill.Cli.Tests;

/// <summary>The checkout the tests run from: the first folder above the test assembly that holds Distill.slnx.</summary>
internal static class RepositoryRoot
{
    /// <summary>The repository's root folder.</summary>
    /// <exception cref="InvalidOperationException">No folder above the test assembly holds Distill.slnx.</exception>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Distill.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Distill.slnx above {AppContext.BaseDirectory}");
    }
}
