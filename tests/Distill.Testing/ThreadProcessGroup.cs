using Distill.Torch;
using Distill.Torch.Distributed;

namespace Distill.Testing;

/// <summary>
/// An in-process stand-in for a real process group: N ranks as N threads of one process. Each collective copies every
/// rank's tensors into a shared slot, waits for all ranks, then every rank combines the slots in rank order (0, 1, ...)
/// so all ranks compute bit-identical results, and waits again before the slots are freed. A rank that does not arrive
/// within <see cref="Timeout"/> makes the others throw a <see cref="TorchException"/>, like a real group's timeout.
/// </summary>
public sealed class ThreadProcessGroup : IProcessGroup
{
    private readonly Shared _shared;

    private ThreadProcessGroup(Shared shared, int rank)
    {
        _shared = shared;
        Rank = rank;
    }

    /// <summary>How long a collective waits for the other ranks.</summary>
    public static TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int WorldSize => _shared.WorldSize;

    /// <summary>The groups of one job, element r being rank r's (give each to its own thread).</summary>
    public static ThreadProcessGroup[] Create(int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        var shared = new Shared(worldSize);
        return [.. Enumerable.Range(0, worldSize).Select(r => new ThreadProcessGroup(shared, r))];
    }

    /// <summary>Runs <paramref name="body"/> on one thread per rank and returns each rank's result; rethrows the first failure.</summary>
    public static T[] Run<T>(int worldSize, Func<ThreadProcessGroup, T> body)
    {
        var groups = Create(worldSize);
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        var threads = groups.Select(g => new Thread(() =>
        {
            try
            {
                results[g.Rank] = body(g);
            }
            catch (Exception e)
            {
                errors[g.Rank] = e; // the other ranks time out at their next collective
            }
        }, 16 << 20)).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        if (errors.FirstOrDefault(e => e is not null) is { } first)
        {
            throw new AggregateException($"rank {Array.IndexOf(errors, first)} failed", first);
        }

        return results;
    }

    /// <inheritdoc/>
    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum)
    {
        Exchange(tensors, slots =>
        {
            using var noGrad = Autograd.NoGrad();
            for (var i = 0; i < tensors.Count; i++)
            {
                using var scope = DisposeScope.Enter();
                var combined = slots[0][i].Clone();
                for (var r = 1; r < slots.Length; r++)
                {
                    combined = op switch
                    {
                        ReduceOp.Max => combined.Maximum(slots[r][i]),
                        ReduceOp.Min => combined.Minimum(slots[r][i]),
                        _ => combined.AddInPlace(slots[r][i]),
                    };
                }

                if (op == ReduceOp.Average)
                {
                    combined.DivInPlace(WorldSize);
                }

                tensors[i].CopyFrom(combined);
            }
        });
    }

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0)
    {
        Exchange(tensors, slots =>
        {
            using var noGrad = Autograd.NoGrad();
            for (var i = 0; i < tensors.Count; i++)
            {
                tensors[i].CopyFrom(slots[root][i]);
            }
        });
    }

    /// <inheritdoc/>
    public Tensor[] AllGather(Tensor tensor)
    {
        Tensor[] result = [];
        Exchange([tensor], slots =>
        {
            using var noGrad = Autograd.NoGrad();
            result = [.. slots.Select(s => s[0].Clone())];
        });
        return result;
    }

    /// <inheritdoc/>
    public void Barrier() => Wait();

    /// <summary>Nothing to free: the shared slots live as long as the job.</summary>
    public void Dispose()
    {
    }

    private void Exchange(IReadOnlyList<Tensor> tensors, Action<Tensor[][]> combine)
    {
        using (Autograd.NoGrad())
        {
            _shared.Slots[Rank] = [.. tensors.Select(t => t.Detach().Clone().DetachFromScope())];
        }

        try
        {
            Wait();
            combine(_shared.Slots);
            Wait();
        }
        finally
        {
            foreach (var t in _shared.Slots[Rank])
            {
                t.Dispose();
            }
        }
    }

    private void Wait()
    {
        if (!_shared.Barrier.SignalAndWait(Timeout))
        {
            throw new TorchException($"rank {Rank}: a collective timed out after {Timeout.TotalSeconds:F0} s waiting for the other ranks");
        }
    }

    private sealed class Shared(int worldSize)
    {
        public int WorldSize { get; } = worldSize;

        public Barrier Barrier { get; } = new(worldSize);

        public Tensor[][] Slots { get; } = new Tensor[worldSize][];
    }
}
