using System.CommandLine;
using Distill.Torch;

namespace Distill.Cli;

/// <summary>Builds the `distill` command tree.</summary>
internal static class DistillCommand
{
    /// <summary>The root command with its subcommands; --version prints Distill's and libtorch's versions.</summary>
    public static Command Create()
    {
        // A named root (not RootCommand, which takes the assembly's name) so help says "distill".
        var root = new Command("distill", "Distill: knowledge distillation for .NET on libtorch.");
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new VersionOption { Action = new VersionAction() });
        root.Options.Add(new Option<bool>(VerboseName) { Description = "On an error, also print the stack trace (as does DISTILL_DEBUG=1).", Recursive = true });

        root.Subcommands.Add(InfoCommand());
        root.Subcommands.Add(ModelCommands.Models());
        root.Subcommands.Add(ModelCommands.Inspect());
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(TrainCommands.Train());
        root.Subcommands.Add(TrainCommands.Teacher());
        root.Subcommands.Add(TrainCommands.Methods());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        return root;
    }

    /// <summary>The global flag that adds the stack trace to an error message (read by <see cref="CliRunner"/>).</summary>
    public const string VerboseName = "--verbose";

    /// <summary>The line --version prints.</summary>
    public static string VersionLine() => $"distill {TorchRuntime.Version} (libtorch {TorchRuntime.LibTorchVersion}, shim ABI {TorchRuntime.AbiVersion})";

    /// <summary>What teacher.precision: bf16 can expect of this processor, from the flags Linux reports.</summary>
    private static string ProcessorBFloat16()
    {
        const string CpuInfo = "/proc/cpuinfo";
        var flags = File.Exists(CpuInfo)
            ? File.ReadLines(CpuInfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? []
            : [];
        return flags.Contains("amx_bf16") ? "AMX and AVX-512 BF16 (teacher.precision: bf16 pays)"
            : flags.Contains("avx512_bf16") ? "AVX-512 BF16 (teacher.precision: bf16 pays)"
            : flags.Contains("avx512bw") ? "emulated on AVX-512 (teacher.precision: bf16 runs, likely no faster than fp32)"
            : "no bfloat16 instructions (teacher.precision: bf16 may be refused; use fp32)";
    }

    private static Command InfoCommand()
    {
        var command = new Command("info", "Show the runtime: versions, threads and devices.");
        command.SetAction(_ =>
        {
            Console.WriteLine(VersionLine());
            DataParallelEnvironment.UseCoreShare(1);
            Console.WriteLine($"threads: {TorchRuntime.Threads} (what training uses: every logical core, or OMP_NUM_THREADS)");
            Console.WriteLine(TorchRuntime.AllocatorPolicy switch
            {
                "cache" => "allocator: cache (tensors of 1 MiB or more reuse freed blocks of their size; DISTILL_ALLOCATOR=tuned or system for the C library's heap)",
                "tuned" => "allocator: tuned (large blocks stay on the C library's heap between steps)",
                _ => "allocator: system (the C library's defaults)",
            });
            Console.WriteLine($"blas: {TorchRuntime.BlasLibrary}");
            Console.WriteLine($"bf16: {ProcessorBFloat16()}");
            if (!TorchRuntime.CudaIsAvailable)
            {
                Console.WriteLine($"cuda: not available (libtorch {TorchRuntime.LibTorchVersion} has no CUDA support or sees no GPU); --device cpu only");
                return 0;
            }

            Console.WriteLine($"cuda: {TorchRuntime.CudaDeviceCount} device(s) (--device cuda:N)");
            try
            {
                foreach (var d in TorchRuntime.CudaDevices)
                {
                    Console.WriteLine($"  {d}");
                }
            }
            catch (TorchException e)
            {
                Console.WriteLine($"  (device details unavailable: {e.Message})");
            }

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
