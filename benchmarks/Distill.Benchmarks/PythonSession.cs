using System.Diagnostics;
using System.Text.Json;

namespace Distill.Benchmarks;

/// <summary>
/// A PyTorch-side script kept running between measurements, so its rounds can alternate with Distill's in one run:
/// the script prints one JSON line when ready, then one JSON line per command line it reads.
/// </summary>
internal sealed class PythonSession : IDisposable
{
    private readonly string _script;
    private readonly Process _process;
    private readonly Task<string> _stderr;

    public PythonSession(string script, Process process)
    {
        _script = script;
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        Ready = ReadLine();
    }

    /// <summary>The line the script printed when it was ready.</summary>
    public JsonDocument Ready { get; }

    /// <summary>Sends <paramref name="command"/> and reads the JSON line it answers.</summary>
    public JsonDocument Ask(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        return ReadLine();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Ready.Dispose();
        if (!_process.HasExited)
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }
        }

        _process.Dispose();
    }

    private JsonDocument ReadLine()
    {
        var line = _process.StandardOutput.ReadLine();
        if (line is null)
        {
            _process.WaitForExit();
            throw new InvalidOperationException($"{_script} failed ({_process.ExitCode}): {_stderr.Result}");
        }

        return JsonDocument.Parse(line);
    }
}
