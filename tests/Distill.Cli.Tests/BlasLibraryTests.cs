using Xunit;

namespace Distill.Cli.Tests;

/// <summary>`distill info` names the BLAS library libtorch's matrix products actually run on in this process, and the processor's bfloat16 support.</summary>
public sealed class BlasLibraryTests
{
    // Debian's reference (netlib) BLAS, which eng/setup.sh installs: every libblas.so.3 alternative sits in its own folder, so pointing the loader
    // at this one overrides the system's choice for one process.
    private const string ReferenceBlasFolder = "/usr/lib/x86_64-linux-gnu/blas";

    [Fact]
    public async Task Info_NamesTheLibraryTheLoaderChose_NotTheSystemDefault()
    {
        var (exit, stdout, stderr) = await CliProcess.RunWith(new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = ReferenceBlasFolder }, "info");

        Assert.True(exit == 0, stderr);
        Assert.Contains("blas: blas/libblas.so.3", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_ByDefault_NamesALoadedLibraryFile()
    {
        var (exit, stdout, stderr) = await CliProcess.Run("info");

        Assert.True(exit == 0, stderr);
        var line = stdout.Split('\n').Single(l => l.StartsWith("blas: ", StringComparison.Ordinal)).TrimEnd('\r');
        var shown = line["blas: ".Length..];
        Assert.True(shown == "linked into libtorch" || shown.Contains(".so", StringComparison.Ordinal), line);
    }

    [Fact]
    public async Task Info_SaysWhetherThisProcessorRunsBf16Teachers_FromItsFlags()
    {
        var (exit, stdout, stderr) = await CliProcess.Run("info");

        Assert.True(exit == 0, stderr);
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        var line = stdout.Split('\n').Single(l => l.StartsWith("bf16: ", StringComparison.Ordinal));
        Assert.Equal(flags.Contains("avx512_bf16"), line.Contains("BF16 (teacher.precision: bf16 pays)", StringComparison.Ordinal));
    }
}
