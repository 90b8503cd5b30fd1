namespace Distill.Cli;

/// <summary>The exit codes of `distill` (README, "Exit codes and --verbose").</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>A bug in distill: an exception no input should cause.</summary>
    public const int InternalError = 1;

    /// <summary>Bad input: a flag, a recipe value, a checkpoint, a data file or a path.</summary>
    public const int BadInput = 2;

    /// <summary>Training diverged (a loss term or a weight turned NaN or infinite): the recipe's fault, not the input's syntax.</summary>
    public const int Diverged = 3;

    /// <summary>Ctrl-C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
