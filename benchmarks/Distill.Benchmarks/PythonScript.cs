using System.Diagnostics;
using System.Text.Json;

namespace Distill.Benchmarks;

/// <summary>Runs one of the PyTorch-side scripts copied beside the benchmark with Debian's /usr/bin/python3 and parses the JSON it prints.</summary>
internal static class PythonScript
{
    public static JsonDocument Run(string script, params IEnumerable<string> arguments)
    {
        using var process = Start(script, arguments, redirectInput: false);
        var stderrTask = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {stderrTask.Result}");
        }

        return JsonDocument.Parse(stdout);
    }

    /// <summary>Starts <paramref name="script"/> as a server that answers each line written to it with one JSON line (see <see cref="PythonSession"/>).</summary>
    public static PythonSession Serve(string script, params IEnumerable<string> arguments) => new(script, Start(script, arguments, redirectInput: true));

    private static Process Start(string script, IEnumerable<string> arguments, bool redirectInput)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput, UseShellExecute = false };
        // The PyTorch side runs with glibc's own malloc settings, whatever the tunables given to ours (GLIBC_TUNABLES).
        info.Environment.Remove("GLIBC_TUNABLES");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, script));
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
    }
}
