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
    public void CandidatePaths_IncludeThePackagesNativeFolder_AfterEachDirectory_AndTheHostsNativeFolders()
    {
        var paths = NativeLibraryLoader.CandidatePaths(
            "/opt/shim/libdistill_torch.so",
            ["/tools/.store/distill.cli/0.1.0/tools/net10.0/any/", null, "/tools/.store/distill.cli/0.1.0/tools/net10.0/any"],
            "/cache/distill.torch/0.1.0/runtimes/linux-x64/native/:/app/").ToList();

        Assert.Equal(
            [
                "/opt/shim/libdistill_torch.so",
                "/tools/.store/distill.cli/0.1.0/tools/net10.0/any/libdistill_torch.so",
                $"/tools/.store/distill.cli/0.1.0/tools/net10.0/any/runtimes/{NativeLibraryLoader.RuntimeIdentifier}/native/libdistill_torch.so",
                "/cache/distill.torch/0.1.0/runtimes/linux-x64/native/libdistill_torch.so",
                "/app/libdistill_torch.so",
                "libdistill_torch.so",
            ],
            paths);
    }

    [Fact]
    public void ShimInAPackagesNativeFolder_Loads()
    {
        // A consumer's output as NuGet lays it out: the shim under runtimes/linux-x64/native/, none in the folder itself.
        var app = Directory.CreateTempSubdirectory("distill-loader-");
        try
        {
            var native = Directory.CreateDirectory(Path.Combine(app.FullName, "runtimes", NativeLibraryLoader.RuntimeIdentifier, "native"));
            // A link, not a copy: the loader then hands back the shim this process already runs, not a second instance.
            File.CreateSymbolicLink(Path.Combine(native.FullName, "libdistill_torch.so"), Path.Combine(AppContext.BaseDirectory, "libdistill_torch.so"));
            var paths = NativeLibraryLoader.CandidatePaths(null, [app.FullName], null).ToList();
            Assert.Equal(Path.Combine(native.FullName, "libdistill_torch.so"), paths[1]);

            var handle = NativeLibraryLoader.LoadFirst(paths.Take(2));
            Assert.NotEqual(IntPtr.Zero, handle);
        }
        finally
        {
            app.Delete(recursive: true);
        }
    }

    [Fact]
    public void LoadedShim_HasTheExpectedAbiVersion() =>
        Assert.Equal(NativeLibraryLoader.ExpectedAbiVersion, TorchRuntime.AbiVersion);
}
