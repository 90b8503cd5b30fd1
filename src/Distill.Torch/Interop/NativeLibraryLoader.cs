using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>
/// Finds libdistill_torch.so, checks its ABI version against the one this assembly was built for, and
/// explains every failure: each path tried, with the dynamic loader's own message.
/// </summary>
internal static unsafe class NativeLibraryLoader
{
    /// <summary>The DT_ABI_VERSION this assembly's P/Invoke declarations match.</summary>
    internal const int ExpectedAbiVersion = 10;

    /// <summary>Environment variable naming the shim's full path, tried first.</summary>
    internal const string PathVariable = "DISTILL_NATIVE_PATH";

    private const string FileName = "libdistill_torch.so";
    private static readonly Lock Gate = new();
    private static IntPtr _handle;
    private static Exception? _failure;

    // A library module initializer is the intended use here: the resolver must be in place before the
    // first P/Invoke of this assembly, whichever type makes it.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Registers the native resolver before any P/Invoke.")]
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == Native.Library ? Load() : IntPtr.Zero;

    /// <summary>Loads (once) and returns the shim's handle, or throws the reason it cannot be used.</summary>
    internal static IntPtr Load()
    {
        lock (Gate)
        {
            if (_handle != IntPtr.Zero)
            {
                return _handle;
            }

            if (_failure is not null)
            {
                throw _failure;
            }

            try
            {
                _handle = LoadAndVerify();
                return _handle;
            }
            catch (Exception e)
            {
                _failure = e;
                throw;
            }
        }
    }

    private static IntPtr LoadAndVerify()
    {
        var handle = LoadFirst(CandidatePaths());
        AllocatorPolicy.Apply(handle);
        return handle;
    }

    /// <summary>Loads the first path that holds a shim of the expected ABI; else throws, naming each path and why it failed.</summary>
    internal static IntPtr LoadFirst(IEnumerable<string> paths)
    {
        var attempts = new List<string>();
        foreach (var path in paths)
        {
            try
            {
                var handle = NativeLibrary.Load(path);
                VerifyAbi(handle, path);
                return handle;
            }
            catch (DllNotFoundException e)
            {
                attempts.Add($"  {path}: {e.Message}");
            }
            catch (BadImageFormatException e)
            {
                attempts.Add($"  {path}: {e.Message}");
            }
        }

        throw new DllNotFoundException(
            $"Distill could not load its native shim {FileName}. Paths tried:{Environment.NewLine}" +
            string.Join(Environment.NewLine, attempts) + Environment.NewLine +
            "Build it with `dotnet build` (it runs CMake over native/) or run eng/setup.sh to install libtorch; " +
            "the packaged shim needs libtorch 1.13 and OpenCV's image codecs from the system (Debian 12: libtorch1.13, libopencv-imgcodecs406); " +
            $"set {PathVariable} to use a shim elsewhere.");
    }

    // In a single-file app Assembly.Location is empty and skipped; AppContext.BaseDirectory covers that case.
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "an empty location is skipped")]
    private static IEnumerable<string> CandidatePaths() =>
        CandidatePaths(
            Environment.GetEnvironmentVariable(PathVariable),
            [AppContext.BaseDirectory, Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location)],
            AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string);

    /// <summary>
    /// The paths tried, in order: <paramref name="fromEnvironment"/>; each of <paramref name="directories"/> and its
    /// runtimes/linux-ARCH/native/ (where a NuGet package's native asset lands in a consumer's build and publish
    /// output); the folders the host lists for native assets (<paramref name="nativeSearchDirectories"/>, separated
    /// by the path separator: a package's folder in the NuGet cache when the app runs from its deps.json); last, the
    /// bare file name for the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache). Each folder once.
    /// </summary>
    internal static IEnumerable<string> CandidatePaths(string? fromEnvironment, IEnumerable<string?> directories, string? nativeSearchDirectories)
    {
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            yield return fromEnvironment;
        }

        var runtimeFolder = Path.Combine("runtimes", RuntimeIdentifier, "native");
        var folders = new List<string>();
        foreach (var directory in directories)
        {
            if (!string.IsNullOrEmpty(directory))
            {
                folders.Add(directory);
                folders.Add(Path.Combine(directory, runtimeFolder));
            }
        }

        folders.AddRange((nativeSearchDirectories ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            if (seen.Add(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))))
            {
                yield return Path.Combine(folder, FileName);
            }
        }

        yield return FileName;
    }

    /// <summary>The portable runtime identifier the package's native folder is named by: linux-x64, linux-arm64.</summary>
    internal static string RuntimeIdentifier => $"linux-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";

    private static void VerifyAbi(IntPtr handle, string path)
    {
        if (!NativeLibrary.TryGetExport(handle, "dt_abi_version", out var export))
        {
            NativeLibrary.Free(handle);
            throw new DllNotFoundException($"{path} has no dt_abi_version export: it is not Distill's shim.");
        }

        int version;
        ((delegate* unmanaged<int*, int>)export)(&version);
        if (version != ExpectedAbiVersion)
        {
            NativeLibrary.Free(handle);
            throw new DllNotFoundException(
                $"{path} has ABI version {version} but Distill.Torch expects {ExpectedAbiVersion}: rebuild the shim (dotnet build).");
        }
    }
}
