using System.CommandLine;
using System.CommandLine.Invocation;
using Distill.Configs;
using Distill.Engine;
using Distill.NN;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Cli;

/// <summary>
/// The one entry point of the `distill` command (Program.cs and the tests): parses, invokes, and turns every
/// exception into one message on stderr and an exit code (see <see cref="ExitCodes"/>). The stack trace is
/// printed only with --verbose or DISTILL_DEBUG=1. System.CommandLine's own exception handler is off.
/// </summary>
internal static class CliRunner
{
    /// <summary>Runs the command line; output and error default to the console, the environment to the process's.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null, Func<string, string?>? environment = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        environment ??= Environment.GetEnvironmentVariable;
        var verbose = args.Contains(DistillCommand.VerboseName) || environment("DISTILL_DEBUG") == "1";
        try
        {
            var parse = DistillCommand.Create().Parse(args);
            if (parse.Action is ParseErrorAction)
            {
                var command = string.Join(' ', parse.CommandResult.Command.Name == "distill" ? ["distill"] : new[] { "distill", parse.CommandResult.Command.Name });
                error.WriteLine($"error: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
                error.WriteLine($"see `{command} --help`");
                return ExitCodes.BadInput;
            }

            return parse.Invoke(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e)
        {
            var (code, message) = Describe(e);
            error.WriteLine(message);
            if (verbose)
            {
                error.WriteLine(e.ToString());
            }
            else if (code == ExitCodes.InternalError)
            {
                error.WriteLine("this is a bug in distill: run again with --verbose (or DISTILL_DEBUG=1) for the stack trace and report it");
            }

            return code;
        }
    }

    /// <summary>The exit code and the one-line message for an exception that ended a command.</summary>
    internal static (int Code, string Message) Describe(Exception e)
    {
        // Exceptions thrown inside a rendering callback (Spectre's progress display) may arrive wrapped.
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException is not null)
        {
            e = e.InnerException!;
        }

        return e switch
        {
            TrainingDivergedException => (ExitCodes.Diverged, $"error: {e.Message}"),
            OperationCanceledException => (ExitCodes.Interrupted, "interrupted"),
            ConfigException or CheckpointFormatException or DataFormatException or EnvironmentSettingException => (ExitCodes.BadInput, $"error: {OneLine(e.Message)}"),
            StateDictMismatchException m => (ExitCodes.BadInput, $"error: {CheckpointMismatch.Summary(m)}"),
            FileNotFoundException f => (ExitCodes.BadInput, $"error: {f.FileName ?? OneLine(f.Message)}: no such file"),
            DirectoryNotFoundException => (ExitCodes.BadInput, $"error: {OneLine(e.Message)} (a folder on the path does not exist)"),
            UnauthorizedAccessException => (ExitCodes.BadInput, $"error: {OneLine(e.Message)} (check the path's permissions)"),
            IOException => (ExitCodes.BadInput, $"error: I/O error: {OneLine(e.Message)}"),
            TorchException or OutOfMemoryException when IsOutOfMemory(e.Message) =>
                (ExitCodes.BadInput, $"error: out of memory: {NativeMessage(e.Message)} (a smaller data.batch_size, model or input size?)"),
            TorchException => (ExitCodes.InternalError, $"internal error: libtorch: {NativeMessage(e.Message)}"),
            _ => (ExitCodes.InternalError, $"internal error: {e.GetType().Name}: {OneLine(e.Message)}"),
        };
    }

    private static bool IsOutOfMemory(string message) =>
        message.Contains("can't allocate memory", StringComparison.Ordinal) || message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Insufficient memory", StringComparison.OrdinalIgnoreCase);

    // libtorch's messages end with a C++ backtrace ("frame #0: ...", "Exception raised from ..."): keep what precedes it.
    private static string NativeMessage(string message)
    {
        var cut = message.Length;
        foreach (var marker in new[] { "frame #0", "Exception raised from" })
        {
            var at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                cut = Math.Min(cut, at);
            }
        }

        return OneLine(message[..cut]);
    }

    private static string OneLine(string message) => string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
