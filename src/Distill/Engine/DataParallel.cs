using Distill.NN;
using Distill.Torch;
using Distill.Torch.Distributed;

namespace Distill.Engine;

/// <summary>
/// What the trainer does across ranks when it has a process group (PyTorch DistributedDataParallel's semantics, done
/// explicitly): rank 0's parameters and buffers broadcast at the start and checked by an all-gathered checksum;
/// gradients averaged after every backward, in buckets of flat buffers allocated once; buffers broadcast from rank 0
/// before evaluation and saving; loss sums averaged for display. The teacher never communicates.
/// </summary>
internal sealed class DataParallel : IDisposable
{
    /// <summary>PyTorch DDP's default bucket_cap_mb: 25 MB of gradients per all-reduce.</summary>
    public const long BucketBytes = 25L * 1024 * 1024;

    private readonly IProcessGroup _group;
    private readonly IReadOnlyList<(string Name, Tensor Tensor)> _state;
    private readonly IReadOnlyList<Tensor> _buffers;
    private readonly List<GradientBucket> _buckets;
    private readonly List<GradientBucket> _ownBuckets;

    /// <summary>Prepares the buckets; allocates one flat buffer per bucket.</summary>
    /// <param name="group">The ranks of the job.</param>
    /// <param name="modules">The student and the distiller (their parameters and buffers are synchronised; names are prefixed by position).</param>
    /// <param name="trainable">The parameters the main optimizer steps, in its order (the same on every rank).</param>
    /// <param name="own">A method's own parameters (a discriminator), averaged after its own backward.</param>
    /// <param name="bucketBytes">The largest bucket in bytes.</param>
    public DataParallel(IProcessGroup group, IReadOnlyList<Module?> modules, IReadOnlyList<Tensor> trainable, IReadOnlyList<Tensor> own, long bucketBytes = BucketBytes)
    {
        _group = group;
        var state = new List<(string, Tensor)>();
        var buffers = new List<Tensor>();
        for (var i = 0; i < modules.Count; i++)
        {
            if (modules[i] is not { } module)
            {
                continue;
            }

            var prefix = i == 0 ? string.Empty : "method.";
            state.AddRange(module.NamedParameters().Select(p => (prefix + p.Name, p.Parameter)));
            foreach (var (name, buffer) in module.NamedBuffers())
            {
                state.Add((prefix + name, buffer));
                buffers.Add(buffer);
            }
        }

        _state = state;
        _buffers = buffers;
        _buckets = Buckets(trainable, bucketBytes);
        _ownBuckets = Buckets(own, bucketBytes);
    }

    /// <summary>The job's number of ranks.</summary>
    public int WorldSize => _group.WorldSize;

    /// <summary>This process's rank.</summary>
    public int Rank => _group.Rank;

    /// <summary>The bucket sizes in elements (gradients only), last registered parameters first.</summary>
    internal IReadOnlyList<long> BucketElements => [.. _buckets.Select(b => b.Elements)];

    /// <summary>
    /// Broadcasts every parameter and buffer from rank 0, then checks that all ranks hold the same values.
    /// </summary>
    /// <exception cref="InvalidOperationException">A tensor still differs between ranks (names the first one and the ranks).</exception>
    public void SynchronizeState()
    {
        using (DisposeScope.Enter())
        using (Autograd.NoGrad())
        {
            if (_state.Count > 0)
            {
                _group.Broadcast([.. _state.Select(s => s.Tensor)]);
            }
        }

        VerifyState();
    }

    /// <summary>Compares a checksum of every parameter and buffer, all-gathered from every rank, with rank 0's.</summary>
    /// <exception cref="InvalidOperationException">A tensor differs between ranks.</exception>
    public void VerifyState()
    {
        using var scope = DisposeScope.Enter();
        var sums = _state.Select(s => Checksum(s.Tensor)).ToArray();
        var gathered = _group.AllGather(Tensor.From(sums, sums.Length)).Select(g => g.ToArray<long>()).ToArray();
        for (var r = 1; r < gathered.Length; r++)
        {
            for (var i = 0; i < sums.Length; i++)
            {
                if (gathered[r][i] != gathered[0][i])
                {
                    throw new InvalidOperationException($"data-parallel: '{_state[i].Name}' differs between rank 0 and rank {r} after the start-up broadcast: the ranks do not run the same model (same recipe and build on every rank?)");
                }
            }
        }
    }

    /// <summary>Averages the gradients of the main optimizer's parameters across ranks (zeros stand in for a rank's missing gradient).</summary>
    public void AverageGradients() => Average(_buckets);

    /// <summary>Averages the gradients of a method's own parameters across ranks.</summary>
    public void AverageOwnGradients() => Average(_ownBuckets);

    /// <summary>Overwrites every buffer (BatchNorm running statistics) with rank 0's.</summary>
    public void BroadcastBuffers()
    {
        if (_buffers.Count == 0)
        {
            return;
        }

        using var scope = DisposeScope.Enter();
        using var noGrad = Autograd.NoGrad();
        _group.Broadcast(_buffers);
    }

    /// <summary>Sums <paramref name="tensors"/> (scalars of one dtype each, any mix) across ranks in place.</summary>
    public void SumInPlace(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count > 0)
        {
            _group.AllReduce(tensors);
        }
    }

    /// <summary>Frees the buckets' flat buffers.</summary>
    public void Dispose()
    {
        foreach (var bucket in _buckets.Concat(_ownBuckets))
        {
            bucket.Dispose();
        }
    }

    /// <summary>FNV-1a over the tensor's bytes: the same on every rank exactly when the values are.</summary>
    private static long Checksum(Tensor tensor)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in tensor.Detach().ToBytes())
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    /// <summary>
    /// Buckets of at most <paramref name="capBytes"/> (a larger parameter gets one of its own), last parameters first as in
    /// DDP (their gradients are ready first), one dtype and device per bucket. Each flat buffer also holds one
    /// "this rank had a gradient" flag per parameter, summed with the gradients, so a parameter no rank reached keeps no
    /// gradient (as under DDP, and as in one process).
    /// </summary>
    private static List<GradientBucket> Buckets(IReadOnlyList<Tensor> parameters, long capBytes)
    {
        var buckets = new List<GradientBucket>();
        var current = new List<Tensor>();
        long bytes = 0;
        foreach (var p in parameters.Reverse())
        {
            var size = p.NumberOfElements * p.DType.ElementSize();
            if (current.Count > 0 && (bytes + size > capBytes || current[0].DType != p.DType || current[0].Device != p.Device))
            {
                buckets.Add(new GradientBucket(current));
                current = [];
                bytes = 0;
            }

            current.Add(p);
            bytes += size;
        }

        if (current.Count > 0)
        {
            buckets.Add(new GradientBucket(current));
        }

        return buckets;
    }

    private void Average(List<GradientBucket> buckets)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Autograd.NoGrad();
        foreach (var bucket in buckets)
        {
            bucket.Average(_group);
        }
    }

    private sealed class GradientBucket : IDisposable
    {
        private readonly Tensor[] _parameters;
        private readonly long[] _offsets;
        private readonly Tensor _flags;

        public GradientBucket(List<Tensor> parameters)
        {
            _parameters = [.. parameters];
            _offsets = new long[_parameters.Length];
            long offset = 0;
            for (var i = 0; i < _parameters.Length; i++)
            {
                _offsets[i] = offset;
                offset += _parameters[i].NumberOfElements;
            }

            Elements = offset;
            Flat = Tensor.Zeros([offset + _parameters.Length], _parameters[0].DType, _parameters[0].Device).DetachFromScope();
            _flags = Flat.Narrow(0, offset, _parameters.Length).DetachFromScope();
        }

        public Tensor Flat { get; }

        public void Dispose()
        {
            _flags.Dispose();
            Flat.Dispose();
        }

        public long Elements { get; }

        public void Average(IProcessGroup group)
        {
            var had = new float[_parameters.Length];
            for (var i = 0; i < _parameters.Length; i++)
            {
                var segment = Flat.Narrow(0, _offsets[i], _parameters[i].NumberOfElements);
                if (_parameters[i].Grad is { } grad)
                {
                    segment.CopyFrom(grad.Reshape(-1));
                    had[i] = 1;
                }
                else
                {
                    segment.ZeroInPlace();
                }
            }

            _flags.CopyFrom(Tensor.From(had, had.Length));
            group.AllReduce([Flat]);
            Flat.Narrow(0, 0, Elements).DivInPlace(group.WorldSize);
            var reached = _flags.To(DType.Float32, Device.Cpu).ToArray<float>();
            for (var i = 0; i < _parameters.Length; i++)
            {
                if (reached[i] == 0)
                {
                    continue;
                }

                var p = _parameters[i];
                var averaged = Flat.Narrow(0, _offsets[i], p.NumberOfElements).View(p.Shape);
                if (p.Grad is { } grad)
                {
                    grad.CopyFrom(averaged);
                }
                else
                {
                    p.Grad = averaged.Clone();
                }
            }
        }
    }
}
