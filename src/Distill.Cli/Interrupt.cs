using System.Runtime.InteropServices;

namespace Distill.Cli;

/// <summary>
/// Ctrl-C: one line on stderr and exit code 130, no trace. The process ends with _exit, at once: a managed
/// exit (Environment.Exit) would tear libtorch down under a running step and crash. Nothing is lost that a
/// normal end would keep: checkpoints are written atomically (temporary file, then rename) at epoch ends.
/// </summary>
internal static partial class Interrupt
{
    private static readonly List<Action> Cleanups = [];

    /// <summary>Runs <paramref name="cleanup"/> on Ctrl-C before the process ends (the launcher stops its workers).</summary>
    public static void BeforeExit(Action cleanup)
    {
        lock (Cleanups)
        {
            Cleanups.Add(cleanup);
        }
    }

    /// <summary>
    /// A worker started by `distill train --nproc` (DISTILL_LAUNCHER_PID set) ends when its launcher does, however the
    /// launcher ended (killed too): Linux's parent-death signal, and an exit at once if the launcher is already gone.
    /// </summary>
    public static void DieWithLauncher()
    {
        if (!OperatingSystem.IsLinux() || !int.TryParse(Environment.GetEnvironmentVariable("DISTILL_LAUNCHER_PID"), out var launcher))
        {
            return;
        }

        const int SetParentDeathSignal = 1; // PR_SET_PDEATHSIG
        const int Kill = 9; // SIGKILL
        _ = Prctl(SetParentDeathSignal, Kill, 0, 0, 0);
        if (GetParentPid() != launcher)
        {
            Exit(ExitCodes.Interrupted);
        }
    }

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

            Action[] cleanups;
            lock (Cleanups)
            {
                cleanups = [.. Cleanups];
            }

            foreach (var cleanup in cleanups)
            {
                cleanup();
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

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentPid();
}
