using System.Diagnostics;

namespace Distill.Cli.Tests;

/// <summary>
/// Runs the built `distill` in its own process: training seeds the process-wide generator, which other test classes
/// here use in parallel, so a training run gets a process of its own.
/// </summary>
internal static class CliProcess
{
    /// <summary>Runs `distill <paramref name="arguments"/>` and returns its exit code, standard output and standard error.</summary>
    /// <exception cref="OperationCanceledException">It ran longer than five minutes.</exception>
    public static Task<(int Exit, string Stdout, string Stderr)> Run(params string[] arguments) =>
        RunWith(new Dictionary<string, string>(), arguments);

    /// <summary>Runs `distill <paramref name="arguments"/>` with <paramref name="environment"/> added to its environment.</summary>
    /// <exception cref="OperationCanceledException">It ran longer than five minutes.</exception>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunWith(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Distill.Cli.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, stderr);
    }
}
