using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// `dotnet pack` over the solution into a temporary folder feed, then what a user does with it, offline: install the
/// tool from that feed alone (a NuGet.config that clears every other source, a private global packages folder) and
/// run it, and build an app that references the library package.
/// </summary>
public sealed class PackageTests : IClassFixture<PackageTests.PackedFeed>
{
    private readonly PackedFeed _feed;

    public PackageTests(PackedFeed feed) => _feed = feed;

    [Fact]
    public void Packages_AreTheLibrariesAndTheTool_AtTheOneVersion_WithMetadataAndReadme()
    {
        Assert.Equal(
            ["Distill", "Distill.Cli", "Distill.NN", "Distill.Torch"],
            Directory.GetFiles(_feed.Feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()
                .Select(f => f![..^$".{_feed.Version}.nupkg".Length]).ToArray());
        foreach (var id in new[] { "Distill", "Distill.NN", "Distill.Torch", "Distill.Cli" })
        {
            using var package = ZipFile.OpenRead(_feed.PackagePath(id));
            var metadata = Nuspec(package, id);
            Assert.Equal(_feed.Version, Value(metadata, "version"));
            Assert.Equal("MIT", Value(metadata, "license"));
            Assert.Equal("README.md", Value(metadata, "readme"));
            Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "description")), $"{id}: no description");
            Assert.Equal("git", metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("type")?.Value);
            using var readme = new StreamReader(package.GetEntry("README.md")!.Open());
            Assert.Contains("libtorch 1.13", readme.ReadToEnd(), StringComparison.Ordinal);
        }

        using (var torch = ZipFile.OpenRead(_feed.PackagePath("Distill.Torch")))
        {
            Assert.Contains("runtimes/linux-x64/native/libdistill_torch.so", torch.Entries.Select(e => e.FullName));
        }

        using (var library = ZipFile.OpenRead(_feed.PackagePath("Distill")))
        {
            var dependencies = Nuspec(library, "Distill").Descendants().Where(e => e.Name.LocalName == "dependency")
                .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
            Assert.Equal(_feed.Version, dependencies["Distill.NN"]);
        }

        using var tool = ZipFile.OpenRead(_feed.PackagePath("Distill.Cli"));
        var types = Nuspec(tool, "Distill.Cli").Descendants().Where(e => e.Name.LocalName == "packageType").Select(e => e.Attribute("name")?.Value);
        Assert.Contains("DotnetTool", types);
        Assert.Contains("tools/net10.0/any/libdistill_torch.so", tool.Entries.Select(e => e.FullName));
    }

    [Fact]
    public async Task Tool_InstalledFromTheLocalFeedIntoAToolPath_RunsVersionAndMethods()
    {
        var tools = Path.Combine(_feed.Root, "tools");
        var (exit, output) = await _feed.Dotnet(_feed.Root, "tool", "install", "--tool-path", tools, "--configfile", _feed.Config, "Distill.Cli", "--version", _feed.Version);
        Assert.True(exit == 0, output);

        var (versionExit, version) = await PackedFeed.Run(Path.Combine(tools, "distill"), _feed.Root, _feed.Environment, "--version");
        Assert.True(versionExit == 0, version);
        Assert.StartsWith($"distill {_feed.Version} (libtorch ", version, StringComparison.Ordinal);

        var (methodsExit, methods) = await PackedFeed.Run(Path.Combine(tools, "distill"), _feed.Root, _feed.Environment, "methods");
        Assert.True(methodsExit == 0, methods);
        var (_, built, _) = await CliProcess.Run("methods");
        Assert.Equal(built, methods);
    }

    [Fact]
    public async Task Library_ReferencedAsAPackage_FindsItsShimUnderRuntimes_AndRunsAModel()
    {
        var app = Directory.CreateDirectory(Path.Combine(_feed.Root, "app")).FullName;
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Distill" Version="{_feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Distill.Models;
            using Distill.Torch;

            using var model = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 28));
            model.Eval();
            using var images = Tensor.Zeros([2, 1, 28, 28]);
            using var logits = model.Forward(images);
            Console.WriteLine($"{TorchRuntime.Version} {string.Join('x', logits.Shape)}");
            """);
        var (buildExit, build) = await _feed.Dotnet(app, "build", "-c", "Release", "-nologo", "-v", "quiet", "-o", Path.Combine(app, "out"));
        Assert.True(buildExit == 0, build);
        Assert.True(File.Exists(Path.Combine(app, "out", "runtimes", "linux-x64", "native", "libdistill_torch.so")), "the shim is not under runtimes/linux-x64/native/");
        Assert.False(File.Exists(Path.Combine(app, "out", "libdistill_torch.so")), "the shim is also beside the app: the runtimes folder is not what found it");

        var (exit, output) = await PackedFeed.Run(Path.Combine(app, "out", "App"), app, _feed.Environment);
        Assert.True(exit == 0, output);
        Assert.Equal($"{_feed.Version} 2x10", output.Trim());
    }

    private static XElement Nuspec(ZipArchive package, string id)
    {
        using var stream = package.GetEntry($"{id}.nuspec")!.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string? Value(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>The solution packed once (no build: the test run's Release output) into a temporary folder feed.</summary>
    public sealed class PackedFeed : IAsyncLifetime
    {
        private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

        /// <summary>The temporary folder holding the feed, the NuGet.config, the global packages folder and the installs.</summary>
        public string Root { get; } = Directory.CreateTempSubdirectory("distill-pack-").FullName;

        /// <summary>The folder feed the packages are written to.</summary>
        public string Feed => Path.Combine(Root, "feed");

        /// <summary>
        /// A NuGet.config naming only the feed (and, for the library's own dependencies, the machine's packages folder);
        /// in <see cref="Root"/>, so the app below it restores with it too.
        /// </summary>
        public string Config => Path.Combine(Root, "NuGet.config");

        /// <summary>The packages' version: Directory.Build.props's, which --version prints.</summary>
        public string Version { get; } = TorchRuntime.Version;

        /// <summary>The environment of every process: a private global packages folder, no first-run work, the runtime's root.</summary>
        public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

        /// <summary>The .nupkg of one package id.</summary>
        public string PackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

        /// <inheritdoc />
        public async Task InitializeAsync()
        {
            Environment["NUGET_PACKAGES"] = Path.Combine(Root, "packages");
            Environment["DOTNET_CLI_HOME"] = Path.Combine(Root, "home");
            Environment["DOTNET_NOLOGO"] = "1";
            Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
            Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

            // The library's third-party dependencies (YamlDotNet, ...) come from the machine's packages folder, which
            // a restore already filled and which NuGet reads as a local feed; nothing is fetched from anywhere.
            var machinePackages = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
                ? set
                : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            File.WriteAllText(Config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="distill-feed" value="{Feed}" />
                    <add key="machine-packages" value="{machinePackages}" />
                  </packageSources>
                </configuration>
                """);

            var root = RepositoryRoot.Path;
            var (exit, output) = await Dotnet(root, "pack", Path.Combine(root, "Distill.slnx"), "-c", "Release", "--no-build", "-nologo", "-v", "quiet", "-o", Feed);
            if (exit != 0)
            {
                throw new InvalidOperationException($"dotnet pack failed ({exit}):{System.Environment.NewLine}{output}");
            }
        }

        /// <inheritdoc />
        public Task DisposeAsync()
        {
            Directory.Delete(Root, recursive: true);
            return Task.CompletedTask;
        }

        /// <summary>Runs `dotnet <paramref name="arguments"/>` in <paramref name="directory"/> with <see cref="Environment"/>.</summary>
        public Task<(int Exit, string Output)> Dotnet(string directory, params string[] arguments) => Run("dotnet", directory, Environment, arguments);

        /// <summary>Runs a program and returns its exit code and its standard output and error together.</summary>
        /// <exception cref="OperationCanceledException">It ran longer than three minutes.</exception>
        public static async Task<(int Exit, string Output)> Run(string program, string directory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
        {
            var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }

            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Limit);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
