using Xunit;

namespace Distill.Cli.Tests;

/// <summary>DISTILL_ALLOCATOR chooses how tensor memory is allocated when the shim loads; `distill info` says which is in force.</summary>
public sealed class AllocatorPolicyTests
{
    private const string Variable = "DISTILL_ALLOCATOR";

    [Fact]
    public async Task Info_ByDefault_ReportsTheBlockCache()
    {
        var (exit, stdout, stderr) = await CliProcess.Run("info");

        Assert.True(exit == 0, stderr);
        Assert.Contains("allocator: cache", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_WithTuned_ReportsTheTunedHeap()
    {
        var (exit, stdout, stderr) = await CliProcess.RunWith(new Dictionary<string, string> { [Variable] = "tuned" }, "info");

        Assert.True(exit == 0, stderr);
        Assert.Contains("allocator: tuned", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_WithSystem_ReportsTheCLibraryDefaults()
    {
        var (exit, stdout, stderr) = await CliProcess.RunWith(new Dictionary<string, string> { [Variable] = "system" }, "info");

        Assert.True(exit == 0, stderr);
        Assert.Contains("allocator: system", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownChoice_IsOneErrorNamingTheVariableAndValue_WithoutAStackTrace()
    {
        var (exit, stdout, stderr) = await CliProcess.RunWith(new Dictionary<string, string> { [Variable] = "jemalloc" }, "info");

        Assert.Equal(2, exit);
        Assert.Contains("error: DISTILL_ALLOCATOR=jemalloc: expected cache (the default), tuned or system", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }
}
