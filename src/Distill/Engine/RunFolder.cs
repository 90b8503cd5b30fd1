using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Distill.NN.Checkpoints;

namespace Distill.Engine;

/// <summary>
/// Keeps a run folder truthful after a crash: removes the temporaries of atomic writes whose writer died, and
/// cuts the logs back to the checkpoint's epoch (a run that died after logging an epoch but before its
/// checkpoint was renamed into place runs that epoch again; a line cut short by a kill is dropped).
/// </summary>
internal static partial class RunFolder
{
    /// <summary>The per-epoch CSV's header.</summary>
    public const string CsvHeader = "epoch,lr,train_top1,test_top1,images_per_second,seconds,terms";

    /// <summary>
    /// Deletes ".name.pid.guid.tmp" files (SafeTensors.WriteAtomically's temporaries) left by a crash: all of
    /// them but a live process's lock attempt (the caller holds the folder's lock, so nobody else writes here).
    /// </summary>
    public static void RemoveStaleTemporaries(string directory, TextWriter notices)
    {
        var removed = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            var match = Temporary().Match(Path.GetFileName(path));
            if (!match.Success || (match.Groups[1].Value == RunFolderLock.FileName
                && RunFolderLock.IsRunning(int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture))))
            {
                continue;
            }

            File.Delete(path);
            removed.Add(Path.GetFileName(path));
        }

        if (removed.Count > 0)
        {
            notices.WriteLine($"{directory}: removed {removed.Count} temporary file(s) left by an interrupted write: {string.Join(", ", removed)}");
        }
    }

    /// <summary>
    /// Rewrites log.jsonl, epochs.csv and steps.jsonl to hold each epoch up to <paramref name="epoch"/> once
    /// (its first complete record) and nothing after it; returns the kept epochs of log.jsonl. Files already in
    /// that state are not touched.
    /// </summary>
    public static List<EpochResult> TruncateLogs(string directory, int epoch)
    {
        var history = new List<EpochResult>();
        Rewrite(Path.Combine(directory, "log.jsonl"), null, line =>
        {
            var result = Parse<EpochResult>(line);
            if (result is null || result.Epoch < 1 || result.Epoch > epoch || history.Any(h => h.Epoch == result.Epoch))
            {
                return false;
            }

            history.Add(result);
            return true;
        });
        var seen = new HashSet<int>();
        Rewrite(Path.Combine(directory, "epochs.csv"), CsvHeader, line =>
            line.Split(',') is { Length: 7 } fields && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var e) && e <= epoch && seen.Add(e));
        var steps = new HashSet<(int, int)>();
        Rewrite(Path.Combine(directory, "steps.jsonl"), null, line =>
            Parse<TrainingProgress>(line) is { } p && p.Epoch >= 1 && p.Epoch <= epoch && steps.Add((p.Epoch, p.Step)));
        return history;
    }

    /// <summary>The run's step log (steps.jsonl) in order: its complete lines that read back; empty when there is none.</summary>
    public static IReadOnlyList<TrainingProgress> ReadSteps(string directory)
    {
        var path = Path.Combine(directory, "steps.jsonl");
        if (!File.Exists(path))
        {
            return [];
        }

        var lines = File.ReadAllText(path).Split('\n');
        return [.. lines[..^1].Select(Parse<TrainingProgress>).OfType<TrainingProgress>()];
    }

    /// <summary>Keeps the complete lines (ended by a newline) that <paramref name="keep"/> accepts; rewrites the file atomically if that changes it.</summary>
    private static void Rewrite(string path, string? header, Func<string, bool> keep)
    {
        var text = File.Exists(path) ? File.ReadAllText(path) : string.Empty;
        var lines = text.Split('\n');
        var body = header is not null && lines.Length > 1 && lines[0] == header ? lines[1..^1] : lines[..^1];
        var kept = new StringBuilder(header is null ? string.Empty : header + "\n");
        foreach (var line in body.Where(keep))
        {
            kept.Append(line).Append('\n');
        }

        var result = kept.ToString();
        if (result != text)
        {
            SafeTensors.WriteAtomically(path, s => s.Write(Encoding.UTF8.GetBytes(result)));
        }
    }

    private static T? Parse<T>(string line)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(line, RunLogJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^\.(.+)\.([0-9]+)\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex Temporary();
}
