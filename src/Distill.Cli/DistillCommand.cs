using System.CommandLine;
using Distill.Torch;

namespace Distill.Cli;

/// <summary>Builds the `distill` command tree.</summary>
internal static class DistillCommand
{
    /// <summary>The root command with its subcommands; --version prints Distill's and libtorch's versions.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("Distill: knowledge distillation for .NET on libtorch.");
        foreach (var option in root.Options)
        {
            if (option is VersionOption version)
            {
                version.Action = new VersionAction();
            }
        }

        root.Subcommands.Add(InfoCommand());
        return root;
    }

    /// <summary>The line --version prints.</summary>
    public static string VersionLine() => $"distill {TorchRuntime.Version} (libtorch {TorchRuntime.LibTorchVersion}, shim ABI {TorchRuntime.AbiVersion})";

    private static Command InfoCommand()
    {
        var command = new Command("info", "Show the runtime: versions, threads and devices.");
        command.SetAction(_ =>
        {
            Console.WriteLine(VersionLine());
            Console.WriteLine($"threads: {TorchRuntime.Threads}");
            Console.WriteLine($"cuda: {(TorchRuntime.CudaIsAvailable ? $"{TorchRuntime.CudaDeviceCount} device(s)" : "not available")}");
            return 0;
        });
        return command;
    }

    private sealed class VersionAction : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(VersionLine());
            return 0;
        }
    }
}
