using Distill.Torch.Interop;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class NativeLoaderTests
{
    [Fact]
    public void LoadFailure_ListsEveryPathTried_WithTheLoadersMessage()
    {
        var missing = "/nonexistent/dir/libdistill_torch.so";
        var notOurs = File.Exists("/usr/lib/x86_64-linux-gnu/libz.so.1") ? "/usr/lib/x86_64-linux-gnu/libz.so.1" : "/lib/x86_64-linux-gnu/libz.so.1";
        var e = Assert.Throws<DllNotFoundException>(() => NativeLibraryLoader.LoadFirst([missing, notOurs]));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{notOurs} has no dt_abi_version export", e.Message, StringComparison.Ordinal);
        Assert.Contains(NativeLibraryLoader.PathVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadedShim_HasTheExpectedAbiVersion() =>
        Assert.Equal(NativeLibraryLoader.ExpectedAbiVersion, TorchRuntime.AbiVersion);
}
