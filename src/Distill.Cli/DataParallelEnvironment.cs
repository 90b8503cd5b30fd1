using System.Globalization;
using Distill.Configs;
using Distill.Torch.Distributed;

namespace Distill.Cli;

/// <summary>
/// A data-parallel worker's place in its job, from the variables a launcher sets (torchrun's names): RANK, WORLD_SIZE,
/// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT. `distill train --nproc N` sets them for its children; a
/// cluster launcher may set them instead.
/// </summary>
/// <param name="Rank">The global rank.</param>
/// <param name="WorldSize">The number of ranks of the job.</param>
/// <param name="LocalRank">The rank on this machine.</param>
/// <param name="LocalWorldSize">The ranks on this machine (WORLD_SIZE when LOCAL_WORLD_SIZE is not set).</param>
internal sealed record DataParallelEnvironment(int Rank, int WorldSize, int LocalRank, int LocalWorldSize)
{
    /// <summary>The variable giving the rendezvous and collective timeout in seconds (PyTorch's 30 minutes when unset).</summary>
    public const string TimeoutVariable = "DISTILL_DIST_TIMEOUT";

    /// <summary>How long the rendezvous and each collective may take (null: <see cref="ProcessGroup.DefaultTimeout"/>), from <see cref="TimeoutVariable"/>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The worker's place, or null when WORLD_SIZE and RANK are not both set (an ordinary run).</summary>
    /// <exception cref="ConfigException">A variable is not a number in range, or MASTER_ADDR/MASTER_PORT is missing.</exception>
    public static DataParallelEnvironment? Read(Func<string, string?> environment)
    {
        if (environment("WORLD_SIZE") is not { } worldText || environment("RANK") is not { } rankText)
        {
            return null;
        }

        var world = Number("WORLD_SIZE", worldText, 1, int.MaxValue);
        var rank = Number("RANK", rankText, 0, world - 1);
        var localRank = environment("LOCAL_RANK") is { } l ? Number("LOCAL_RANK", l, 0, world - 1) : rank;
        var localWorld = environment("LOCAL_WORLD_SIZE") is { } lw ? Number("LOCAL_WORLD_SIZE", lw, 1, world) : world;
        if (world > 1)
        {
            if (string.IsNullOrEmpty(environment("MASTER_ADDR")))
            {
                throw new ConfigException("data-parallel worker (WORLD_SIZE and RANK are set): MASTER_ADDR is not set; it names the machine of rank 0 (e.g. 127.0.0.1)");
            }

            Number("MASTER_PORT", environment("MASTER_PORT") ?? string.Empty, 1, 65535);
        }

        return new DataParallelEnvironment(rank, world, localRank, localWorld) { Timeout = ReadTimeout(environment) };
    }

    /// <summary>The timeout <see cref="TimeoutVariable"/> gives (seconds, above 0); null when it is not set.</summary>
    /// <exception cref="ConfigException">The value is not a number of seconds above 0.</exception>
    public static TimeSpan? ReadTimeout(Func<string, string?> environment)
    {
        if (environment(TimeoutVariable) is not { Length: > 0 } text)
        {
            return null;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds) || seconds <= 0 || seconds > int.MaxValue / 1000.0)
        {
            throw new ConfigException($"environment variable {TimeoutVariable}='{text}' is not a number of seconds above 0 (how long the rendezvous and each collective may take before a rank gives up)");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>
    /// The job's process group: c10d Gloo, rendezvous at MASTER_ADDR:MASTER_PORT (the one place that builds it), with
    /// <paramref name="timeout"/> for the rendezvous and every collective (null: PyTorch's 30 minutes).
    /// </summary>
    /// <exception cref="Torch.EnvironmentSettingException">This build of the shim has no data-parallel support, or a variable is unusable.</exception>
    public static IProcessGroup CreateProcessGroup(TimeSpan? timeout)
    {
        if (!ProcessGroup.IsAvailable)
        {
            throw new Torch.EnvironmentSettingException("data-parallel support not built: the native shim was built without Gloo (install libgloo-dev and rebuild); --nproc > 1 and WORLD_SIZE > 1 cannot run");
        }

        return ProcessGroup.FromEnvironment(timeout);
    }

    /// <summary>
    /// Gives this process its share of the machine's logical cores (<see cref="ThreadsPerRank"/>) for libtorch's intra-op
    /// threads, unless OMP_NUM_THREADS says otherwise: libtorch's own default counts physical cores only (one on a
    /// two-thread virtual machine). Training, comparisons and the quickstart all start with it.
    /// </summary>
    /// <param name="localWorldSize">The training processes on this machine (1 without data-parallel training).</param>
    public static void UseCoreShare(int localWorldSize)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_NUM_THREADS")))
        {
            Torch.TorchRuntime.Threads = ThreadsPerRank(Environment.ProcessorCount, localWorldSize);
        }
    }

    /// <summary>Intra-op threads for one of <paramref name="localWorldSize"/> ranks on this machine: the cores shared out, at least 1.</summary>
    public static int ThreadsPerRank(int cores, int localWorldSize) => Math.Max(1, cores / Math.Max(1, localWorldSize));

    private static int Number(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ConfigException($"environment variable {name}='{text}' is not a whole number from {min} to {max} (data-parallel launch variables: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)");
        }

        return value;
    }
}
