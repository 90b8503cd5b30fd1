using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Distill.Configs;

namespace Distill.Engine;

/// <summary>
/// The run folder's run.lock: it names the process that writes the folder (pid, host, the process's start
/// time), so that two runs never write one folder at once. The file is created whole (written aside, then
/// linked into place, which fails if a lock is there). A lock whose process is gone (same host, no such pid,
/// or a pid since reused by a process that started later) is taken over with a notice; a live one is an
/// error naming its pid. Disposing removes the lock if it is still this process's.
/// </summary>
internal sealed class RunFolderLock : IDisposable
{
    /// <summary>The lock's file name in the run folder.</summary>
    public const string FileName = "run.lock";

    private readonly string _path;
    private readonly string _text;

    private RunFolderLock(string path, string text)
    {
        _path = path;
        _text = text;
    }

    /// <summary>Takes the folder's lock, taking over a stale one (with a line on <paramref name="notices"/>).</summary>
    /// <exception cref="ConfigException">Another live process holds it, or it cannot be read.</exception>
    public static RunFolderLock Acquire(string directory, TextWriter notices)
    {
        var path = Path.Combine(directory, FileName);
        var text = JsonSerializer.Serialize(Owner.Current());
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (TryCreate(path, text))
            {
                return new RunFolderLock(path, text);
            }

            string held;
            try
            {
                held = File.ReadAllText(path);
            }
            catch (FileNotFoundException)
            {
                continue;
            }

            var owner = Owner.Parse(held)
                ?? throw new ConfigException($"{path}: not a run lock this version can read; if no run is using {directory}, delete it");
            if (owner.IsAlive())
            {
                throw new ConfigException(
                    $"{directory} is in use by another run: pid {owner.Pid} on host {owner.Host} (started {owner.Started.ToString("u", CultureInfo.InvariantCulture)}) holds {path}; wait for it to end"
                    + (owner.Host == Environment.MachineName ? string.Empty : ", or delete the lock if no run is going on there"));
            }

            if (TakeAway(path, held))
            {
                notices.WriteLine($"{path}: taking over the lock of pid {owner.Pid} on host {owner.Host}, which is no longer running (it ended without releasing it)");
            }
        }

        throw new ConfigException($"{path}: could not take the lock: other processes keep changing it");
    }

    /// <summary>Whether <paramref name="pid"/> names a running process (for files named after their writer).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Removes the lock if it is still this process's.</summary>
    public void Dispose()
    {
        try
        {
            if (File.ReadAllText(_path) == _text)
            {
                File.Delete(_path);
            }
        }
        catch (IOException)
        {
            // already gone, or unreadable: nothing of ours to remove
        }
    }

    private static bool TryCreate(string path, string text)
    {
        var aside = AsideName(path);
        File.WriteAllText(aside, text, Encoding.UTF8);
        try
        {
            File.Move(aside, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            File.Delete(aside);
        }
    }

    /// <summary>Removes a stale lock if it is still the one judged stale (another process may have taken it meanwhile).</summary>
    private static bool TakeAway(string path, string stale)
    {
        var aside = AsideName(path);
        try
        {
            File.Move(path, aside, overwrite: false);
        }
        catch (FileNotFoundException)
        {
            return false;
        }

        if (File.ReadAllText(aside) == stale)
        {
            File.Delete(aside);
            return true;
        }

        // A fresh lock replaced the stale one between reading and moving it: put it back.
        try
        {
            File.Move(aside, path, overwrite: false);
        }
        catch (IOException)
        {
            File.Delete(aside);
        }

        return false;
    }

    // Named like SafeTensors.WriteAtomically's temporaries, so a crash leaves nothing that the next start does not remove.
    private static string AsideName(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>Who holds a lock.</summary>
    private sealed record Owner(int Pid, string Host, DateTime Started)
    {
        public static Owner Current()
        {
            using var process = Process.GetCurrentProcess();
            return new Owner(Environment.ProcessId, Environment.MachineName, process.StartTime.ToUniversalTime());
        }

        public static Owner? Parse(string text)
        {
            try
            {
                return JsonSerializer.Deserialize<Owner>(text) is { Pid: > 0, Host: not null } owner ? owner : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>On another host there is no telling, so the lock counts as live.</summary>
        public bool IsAlive()
        {
            if (Host != Environment.MachineName)
            {
                return true;
            }

            try
            {
                using var process = Process.GetProcessById(Pid);
                return !process.HasExited && Math.Abs((process.StartTime.ToUniversalTime() - Started).TotalSeconds) < 1;
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return true;
            }
        }
    }
}
