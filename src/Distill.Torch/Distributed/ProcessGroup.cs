using System.Globalization;
using System.Net;
using Distill.Torch.Interop;

namespace Distill.Torch.Distributed;

/// <summary>
/// A process group over libtorch's c10d Gloo backend (torch.distributed with backend "gloo"): rank 0 serves a
/// TCP rendezvous store at the master address, every rank joins it, and the collectives run between the ranks
/// over TCP. Every collective waits for its result; a timeout or a rank that went away becomes a
/// <see cref="TorchException"/> naming the collective and this rank.
/// </summary>
/// <remarks>
/// The transport binds to the interface named by GLOO_SOCKET_IFNAME when that variable is set (as in PyTorch),
/// to the loopback address when the master address is a loopback one, and otherwise to the address this
/// machine's hostname resolves to.
/// </remarks>
public sealed class ProcessGroup : IProcessGroup
{
    /// <summary>PyTorch's default timeout for rendezvous and collectives (30 minutes).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    private readonly ProcessGroupHandle _handle;

    private ProcessGroup(ProcessGroupHandle handle, int rank, int worldSize)
    {
        _handle = handle;
        Rank = rank;
        WorldSize = worldSize;
    }

    /// <summary>
    /// Whether the native library was built with data-parallel support (Gloo's headers were present). When
    /// false, <see cref="Create"/> throws a <see cref="TorchException"/> that says how to get it.
    /// </summary>
    public static bool IsAvailable
    {
        get
        {
            NativeStatus.Check(Native.dt_distributed_available(out var available));
            return available != 0;
        }
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int WorldSize { get; }

    internal ProcessGroupHandle Handle => _handle;

    /// <summary>
    /// Joins a job of <paramref name="worldSize"/> ranks: rank 0 serves the rendezvous store on
    /// <paramref name="masterAddress"/>:<paramref name="masterPort"/> and the others connect to it. Returns once
    /// every rank has joined.
    /// </summary>
    /// <param name="masterAddress">The host name or address of rank 0.</param>
    /// <param name="masterPort">The TCP port rank 0 listens on (1 to 65535).</param>
    /// <param name="rank">This process's rank, 0 to <paramref name="worldSize"/> - 1.</param>
    /// <param name="worldSize">The number of ranks.</param>
    /// <param name="timeout">How long the rendezvous and each later collective may take before failing.</param>
    /// <returns>The process group; dispose it to leave the job.</returns>
    /// <exception cref="ArgumentException">An argument is out of range.</exception>
    /// <exception cref="TorchException">The rendezvous failed or timed out, or the library has no data-parallel support.</exception>
    public static ProcessGroup Create(string masterAddress, int masterPort, int rank, int worldSize, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(masterAddress);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (rank < 0 || rank >= worldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"the rank must be 0 to {worldSize - 1} (world size {worldSize})");
        }

        if (masterPort is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(masterPort), masterPort, "the port must be 1 to 65535");
        }

        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the timeout must be positive");
        }

        var timeoutMs = (long)Math.Ceiling(timeout.TotalMilliseconds);
        NativeStatus.Check(Native.dt_store_tcp_new(masterAddress, masterPort, rank == 0 ? 1 : 0, worldSize, timeoutMs, out var store));
        try
        {
            var deviceHost = IsLoopback(masterAddress) ? "127.0.0.1" : null;
            NativeStatus.Check(Native.dt_pg_gloo_new(store, rank, worldSize, timeoutMs, deviceHost, out var group));
            return new ProcessGroup(new ProcessGroupHandle(group), rank, worldSize);
        }
        finally
        {
            // The process group keeps its own reference to the store.
            Native.dt_store_free(store);
        }
    }

    /// <summary>
    /// Joins the job described by the torchrun variables RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT.
    /// </summary>
    /// <param name="timeout">How long the rendezvous and each collective may take; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>The process group.</returns>
    /// <exception cref="EnvironmentSettingException">A variable is missing or holds an unusable value; the message names it.</exception>
    /// <exception cref="TorchException">The rendezvous failed or timed out.</exception>
    public static ProcessGroup FromEnvironment(TimeSpan? timeout = null)
    {
        var (address, port, rank, worldSize) = ReadEnvironment(Environment.GetEnvironmentVariable);
        return Create(address, port, rank, worldSize, timeout ?? DefaultTimeout);
    }

    /// <inheritdoc />
    public unsafe void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (!Enum.IsDefined(op))
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "unknown reduce operation");
        }

        using var list = new HandleList(tensors.ToArray());
        NativeStatus.Check(Native.dt_pg_allreduce(_handle, list.Pointer, list.Count, (int)op));
    }

    /// <inheritdoc />
    public unsafe void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var list = new HandleList(tensors.ToArray());
        NativeStatus.Check(Native.dt_pg_broadcast(_handle, list.Pointer, list.Count, root));
    }

    /// <inheritdoc />
    public unsafe Tensor[] AllGather(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var outs = new IntPtr[WorldSize];
        fixed (IntPtr* o = outs)
        {
            NativeStatus.Check(Native.dt_pg_allgather(_handle, tensor.Handle, o));
        }

        return outs.Select(p => new Tensor(p)).ToArray();
    }

    /// <inheritdoc />
    public void Barrier() => NativeStatus.Check(Native.dt_pg_barrier(_handle));

    /// <summary>Leaves the job and releases the native process group.</summary>
    public void Dispose() => _handle.Dispose();

    /// <summary>Reads and checks the torchrun variables through <paramref name="read"/>.</summary>
    internal static (string Address, int Port, int Rank, int WorldSize) ReadEnvironment(Func<string, string?> read)
    {
        var worldSize = ReadInt(read, "WORLD_SIZE", 1, int.MaxValue, "a whole number of ranks, at least 1");
        var rank = ReadInt(read, "RANK", 0, worldSize - 1, $"0 to {worldSize - 1} (WORLD_SIZE is {worldSize})");
        var address = read("MASTER_ADDR");
        if (string.IsNullOrWhiteSpace(address))
        {
            throw new EnvironmentSettingException("MASTER_ADDR is not set: set it to the host name or address of rank 0 (127.0.0.1 on one machine)");
        }

        var port = ReadInt(read, "MASTER_PORT", 1, 65535, "a TCP port, 1 to 65535");
        return (address.Trim(), port, rank, worldSize);
    }

    private static int ReadInt(Func<string, string?> read, string name, int min, int max, string allowed)
    {
        var text = read(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new EnvironmentSettingException($"{name} is not set: it must be {allowed}");
        }

        if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new EnvironmentSettingException($"{name}='{text}' is not usable: it must be {allowed}");
        }

        return value;
    }

    private static bool IsLoopback(string address) =>
        string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase) ||
        (IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip));
}
