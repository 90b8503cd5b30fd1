using Distill.Testing;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// `distill train` gives libtorch every logical core (libtorch's own default counts physical cores only), as the
/// quickstart and compare do, unless OMP_NUM_THREADS says otherwise; the run's report records what was used.
/// </summary>
public sealed class ThreadDefaultTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-threads-").FullName;

    [Theory]
    [InlineData("", 0)]
    [InlineData("1", 1)]
    public async Task Train_UsesEveryLogicalCore_UnlessOmpNumThreadsIsSet(string ompNumThreads, int expected)
    {
        var want = expected == 0 ? Environment.ProcessorCount : expected;
        TinyIdx.Write(_root, 16, 8);
        var output = Path.Combine(_root, "run");
        File.WriteAllText(Path.Combine(_root, "r.yaml"), TinyIdx.Recipe(_root, $"""
            train:
              epochs: 1
            output: {output}
            """));

        var (exit, stdout, stderr) = await CliProcess.RunWith(new Dictionary<string, string> { ["OMP_NUM_THREADS"] = ompNumThreads }, "train", "--config", Path.Combine(_root, "r.yaml"));

        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        var report = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains($"<th>threads</th><td style=\"text-align:left\">{want}</td>", report, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Info_ShowsTheThreadsTrainingUses()
    {
        var (exit, stdout, stderr) = await CliProcess.RunWith(new Dictionary<string, string> { ["OMP_NUM_THREADS"] = string.Empty }, "info");

        Assert.True(exit == 0, stderr);
        Assert.Contains($"threads: {Environment.ProcessorCount} (what training uses", stdout, StringComparison.Ordinal);
    }
}
