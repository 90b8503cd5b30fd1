using Distill.Cli;

// Ctrl-C: one line and exit code 130, no trace; checkpoints are written atomically, so the last one stays whole.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Console.Out.Flush();
    Console.Error.WriteLine();
    Console.Error.WriteLine("interrupted (Ctrl-C); a training run continues from its last checkpoint with --resume");
    if (!Console.IsOutputRedirected)
    {
        Console.Write("\u001b[?25h"); // the progress display hides the cursor
    }

    Environment.Exit(ExitCodes.Interrupted);
};
return CliRunner.Run(args);
