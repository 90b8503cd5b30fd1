using System.Runtime.InteropServices;

namespace Distill.Cli;

/// <summary>
/// Ctrl-C: one line on stderr and exit code 130, no trace. The process ends with _exit, at once: a managed
/// exit (Environment.Exit) would tear libtorch down under a running step and crash. Nothing is lost that a
/// normal end would keep: checkpoints are written atomically (temporary file, then rename) at epoch ends.
/// </summary>
internal static partial class Interrupt
{
    /// <summary>Handles Ctrl-C (SIGINT) for the rest of the process.</summary>
    public static void Install() => Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        try
        {
            Console.Out.Flush();
            if (!Console.IsOutputRedirected)
            {
                Console.Out.Write("\u001b[?25h\n"); // the progress display hides the cursor
                Console.Out.Flush();
            }

            Console.Error.WriteLine("interrupted (Ctrl-C); a training run continues from its last checkpoint with --resume");
            Console.Error.Flush();
        }
        finally
        {
            Exit(ExitCodes.Interrupted);
        }
    };

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void Exit(int code);
}
