namespace Distill.Testing;

/// <summary>
/// Where the golden fixtures are read from: the committed ones (tests/Fixtures, copied beside the test
/// assembly), or the folder named by the DISTILL_FIXTURES environment variable, where
/// eng/golden/check_fixtures.sh regenerates them on this machine (so the same tests, at the same tolerance,
/// also run against this CPU's PyTorch).
/// </summary>
public static class FixtureFiles
{
    /// <summary>The environment variable that points the golden tests at another fixture folder.</summary>
    public const string Variable = "DISTILL_FIXTURES";

    /// <summary>The folder holding the fixtures.</summary>
    public static string Directory
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable(Variable);
            return string.IsNullOrEmpty(overridden) ? Path.Combine(AppContext.BaseDirectory, "Fixtures") : Path.GetFullPath(overridden);
        }
    }

    /// <summary>The full path of one fixture; names the folder and the variable when the file is missing.</summary>
    public static string PathOf(string fileName)
    {
        var path = Path.Combine(Directory, fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"golden fixture {path} not found (fixture folder from {Variable} or the test output's Fixtures/)", path);
        }

        return path;
    }
}
