using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Distill.Configs;

namespace Distill.Cli;

/// <summary>
/// `distill train --nproc N`: starts N workers on this machine, each the same command with RANK, WORLD_SIZE, LOCAL_RANK,
/// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set (and OMP_NUM_THREADS, the cores shared out, unless set), forwards
/// rank 0's output as it is and the other ranks' errors with their rank, waits for all, and when one exits non-zero
/// stops the others and names the rank that failed first. Ctrl-C stops them all.
/// </summary>
internal static class Launcher
{
    /// <summary>What to start.</summary>
    /// <param name="Nproc">Workers on this machine.</param>
    /// <param name="Nnodes">Machines in the job.</param>
    /// <param name="NodeRank">This machine's index.</param>
    /// <param name="MasterAddr">Rank 0's machine.</param>
    /// <param name="MasterPort">Rank 0's rendezvous port (0: a free one, one machine only).</param>
    internal sealed record Plan(int Nproc, int Nnodes, int NodeRank, string MasterAddr, int MasterPort)
    {
        /// <summary>Checks the values, naming the flag at fault.</summary>
        /// <exception cref="ConfigException">A value is out of range, or several machines have no fixed port.</exception>
        public void Check()
        {
            if (Nproc < 1)
            {
                throw new ConfigException($"--nproc {Nproc}: the number of processes on this machine must be at least 1");
            }

            if (Nnodes < 1)
            {
                throw new ConfigException($"--nnodes {Nnodes}: the number of machines must be at least 1");
            }

            if (NodeRank < 0 || NodeRank >= Nnodes)
            {
                throw new ConfigException($"--node-rank {NodeRank}: must be from 0 to {Nnodes - 1} (--nnodes {Nnodes})");
            }

            if (MasterPort is < 0 or > 65535)
            {
                throw new ConfigException($"--master-port {MasterPort}: not a TCP port (1 to 65535)");
            }

            if (Nnodes > 1 && MasterPort == 0)
            {
                throw new ConfigException($"--nnodes {Nnodes}: give --master-port (the same on every machine) and --master-addr (rank 0's machine)");
            }

            if (string.IsNullOrWhiteSpace(MasterAddr))
            {
                throw new ConfigException("--master-addr: empty; it names rank 0's machine");
            }
        }
    }

    /// <summary>The processes running now (for Ctrl-C).</summary>
    private static readonly List<Process> Running = [];

    /// <summary>Runs the workers and returns the exit code: 0 when all succeeded, else the first failing rank's code.</summary>
    /// <param name="plan">The job.</param>
    /// <param name="program">The worker's program and its leading arguments (this distill).</param>
    /// <param name="arguments">The command's arguments, passed unchanged (a worker ignores --nproc once RANK is set).</param>
    /// <param name="output">Where rank 0's standard output goes.</param>
    /// <param name="error">Where rank 0's errors and the other ranks' (prefixed) go.</param>
    public static int Run(Plan plan, IReadOnlyList<string> program, IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        plan.Check();
        var port = plan.MasterPort == 0 ? FreePort() : plan.MasterPort;
        var world = plan.Nproc * plan.Nnodes;
        var threads = Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is { Length: > 0 } set ? set
            : DataParallelEnvironment.ThreadsPerRank(Environment.ProcessorCount, plan.Nproc).ToString(CultureInfo.InvariantCulture);
        var gate = new Lock();
        var processes = new Process[plan.Nproc];
        var pumps = new List<Task>();
        Interrupt.BeforeExit(StopAll);
        try
        {
            for (var local = 0; local < plan.Nproc; local++)
            {
                var rank = (plan.NodeRank * plan.Nproc) + local;
                var start = new ProcessStartInfo(program[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in program.Skip(1).Concat(arguments))
                {
                    start.ArgumentList.Add(a);
                }

                start.Environment["RANK"] = rank.ToString(CultureInfo.InvariantCulture);
                start.Environment["WORLD_SIZE"] = world.ToString(CultureInfo.InvariantCulture);
                start.Environment["LOCAL_RANK"] = local.ToString(CultureInfo.InvariantCulture);
                start.Environment["LOCAL_WORLD_SIZE"] = plan.Nproc.ToString(CultureInfo.InvariantCulture);
                start.Environment["MASTER_ADDR"] = plan.MasterAddr;
                start.Environment["MASTER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
                start.Environment["OMP_NUM_THREADS"] = threads;
                start.Environment["DISTILL_LAUNCHER_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
                var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start rank {rank}: {program[0]}");
                processes[local] = process;
                lock (Running)
                {
                    Running.Add(process);
                }

                var prefix = rank == 0 ? string.Empty : $"[rank {rank}] ";
                pumps.Add(Pump(process.StandardOutput, rank == 0 ? output : null, prefix, gate));
                pumps.Add(Pump(process.StandardError, error, prefix, gate));
            }

            // Wait for every worker; the first non-zero exit stops the rest.
            (int Rank, int Code)? failed = null;
            var left = processes.ToList();
            while (left.Count > 0)
            {
                var index = Task.WaitAny([.. left.Select(p => p.WaitForExitAsync())]);
                var done = left[index];
                left.RemoveAt(index);
                if (done.ExitCode != 0 && failed is null)
                {
                    // A rank killed from outside makes its peers fail moments later; when several have exited by now,
                    // the first to exit is the cause.
                    var first = left.Where(p => p.HasExited && p.ExitCode != 0).Prepend(done).MinBy(p => p.ExitTime)!;
                    failed = ((plan.NodeRank * plan.Nproc) + Array.IndexOf(processes, first), first.ExitCode);
                    foreach (var other in left)
                    {
                        Kill(other);
                    }
                }
            }

            Task.WaitAll([.. pumps]);
            if (failed is { } f)
            {
                var others = plan.Nproc - 1;
                lock (gate)
                {
                    error.WriteLine($"error: rank {f.Rank} exited first with code {f.Code}{(OperatingSystem.IsWindows() || f.Code is <= 128 or > 128 + 64 ? string.Empty : $" (killed by signal {f.Code - 128})")}{(others > 0 ? $"; the other {others} process(es) on this machine were stopped" : string.Empty)}");
                }

                return f.Code;
            }

            return ExitCodes.Ok;
        }
        finally
        {
            StopAll();
            foreach (var p in processes)
            {
                p?.Dispose();
            }
        }
    }

    /// <summary>This distill as a program to start again: the apphost, or `dotnet Distill.Cli.dll`.</summary>
    public static IReadOnlyList<string> Self()
    {
        var path = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(path) == "dotnet" ? [path, Environment.GetCommandLineArgs()[0]] : [path];
    }

    /// <summary>A TCP port that was free a moment ago on the loopback interface (bound to port 0, then released).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void StopAll()
    {
        lock (Running)
        {
            foreach (var p in Running)
            {
                Kill(p);
            }

            Running.Clear();
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // It exited meanwhile.
        }
    }

    /// <summary>Copies lines to <paramref name="target"/> (null: drops them) with <paramref name="prefix"/>.</summary>
    private static Task Pump(StreamReader source, TextWriter? target, string prefix, Lock gate) => Task.Run(async () =>
    {
        while (await source.ReadLineAsync() is { } line)
        {
            if (target is null)
            {
                continue;
            }

            lock (gate)
            {
                target.WriteLine(prefix + line);
                target.Flush();
            }
        }
    });
}
