using System.Threading.Channels;
using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// Batches a data set, shuffled or in order, with transforms applied on background threads that build
/// plain arrays; tensors are made on the consuming (training) thread, inside its dispose scope.
/// The order is PyTorch's: <c>DataLoader(ds, shuffle=True, generator=torch.Generator().manual_seed(seed))</c>
/// draws, each epoch, a base seed (random_) and then randperm twice (the sampler's permutation and the empty
/// remainder slice it ends with) from one generator, and so does this loader,
/// so the same seed gives the same order here, in PyTorch, and on every machine. Random transforms draw
/// from a per-sample generator seeded by the epoch's base seed and the sample index. Each sample's target is checked
/// against its image, moved with it by the transforms, and stacked by its kind's <see cref="ITargetCollator"/>.
/// </summary>
public sealed class DataLoader
{
    private readonly IImageDataset _dataset;
    private readonly ITransform? _transform;
    private readonly int _workers;
    private readonly Lock _orderGate = new();
    private Generator? _generator;
    private int _generatorEpoch = -1;
    private bool _unpadded;

    /// <summary>Creates the loader.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">Visit samples in a seeded random order each epoch.</param>
    /// <param name="seed">The order's seed.</param>
    /// <param name="dropLast">Skip the last, smaller batch.</param>
    /// <param name="transform">Applied to each image and its target on a worker thread.</param>
    /// <param name="workers">Batches prepared in parallel ahead of the consumer.</param>
    /// <param name="rank">This process's rank in data-parallel training (0-based).</param>
    /// <param name="worldSize">The number of data-parallel processes: each epoch's order (the same on every rank,
    /// from the shared seed) is padded by wrapping to a multiple of it, and rank r takes positions r, r + W, ...
    /// (torch's DistributedSampler layout); 1 means no sharding.</param>
    public DataLoader(IImageDataset dataset, int batchSize, bool shuffle = false, ulong seed = 0, bool dropLast = false, ITransform? transform = null, int workers = 2,
        int rank = 0, int worldSize = 1)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        Rank = rank;
        WorldSize = worldSize;
        _dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        _transform = transform;
        _workers = workers;
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// Where the batches' tensors go (the CPU by default). For CUDA each batch is copied to page-locked host memory
    /// and from there to the GPU without blocking (pin_memory=True and .to(device, non_blocking=True) in PyTorch), so
    /// the copy overlaps with the host preparing the next batch.
    /// </summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>
    /// Recorded draws to replay instead of drawing (null: draw): each sample, each epoch, replays its draw number
    /// <see cref="ChooseDraw"/>(base seed, index, M), and the batch carries the chosen numbers (<see cref="Batch.Draws"/>).
    /// </summary>
    public IRecordedDraws? RecordedDraws { get; init; }

    /// <summary>This loader (same data set, order, transform, workers, shard and device) replaying <paramref name="draws"/> (null: drawing).</summary>
    public DataLoader WithRecordedDraws(IRecordedDraws? draws) =>
        new(_dataset, BatchSize, Shuffle, Seed, DropLast, _transform, _workers, Rank, WorldSize) { Device = Device, RecordedDraws = draws, _unpadded = _unpadded };

    /// <summary>
    /// This loader's samples as rank <paramref name="rank"/> of <paramref name="worldSize"/> evaluates them: positions r, r + W, ...
    /// of each epoch's order without wrapping at the end, so together the ranks visit every sample exactly once (a rank may
    /// have one sample fewer than another, or none). What sharded evaluation needs: a wrapped duplicate would be counted twice.
    /// </summary>
    /// <exception cref="InvalidOperationException">This loader is already a shard.</exception>
    public DataLoader EvaluationShard(int rank, int worldSize)
    {
        if (WorldSize != 1)
        {
            throw new InvalidOperationException($"the loader is already rank {Rank}'s shard of {WorldSize}; shard the whole loader");
        }

        return new DataLoader(_dataset, BatchSize, Shuffle, Seed, DropLast, _transform, _workers, rank, worldSize) { Device = Device, RecordedDraws = RecordedDraws, _unpadded = true };
    }

    /// <summary>The transform applied to every sample (null: none).</summary>
    public ITransform? Transform => _transform;

    /// <summary>The data set the batches come from.</summary>
    public IImageDataset Dataset => _dataset;

    /// <summary>Whether each epoch visits a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>The order's seed.</summary>
    public ulong Seed { get; }

    /// <summary>Whether the last, smaller batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>This process's data-parallel rank.</summary>
    public int Rank { get; }

    /// <summary>The number of data-parallel processes sharing each epoch.</summary>
    public int WorldSize { get; }

    /// <summary>Samples this rank visits per epoch.</summary>
    public int ShardSize => WorldSize == 1 ? _dataset.Count
        : _unpadded ? Math.Max(0, (_dataset.Count - Rank + WorldSize - 1) / WorldSize)
        : (_dataset.Count + WorldSize - 1) / WorldSize;

    /// <summary>Batches per epoch (of this rank's shard).</summary>
    public int BatchCount => DropLast ? ShardSize / BatchSize : (ShardSize + BatchSize - 1) / BatchSize;

    /// <summary>The sample order of an epoch (this rank's shard of it) and the base seed of its random transforms.</summary>
    public (int[] Order, long BaseSeed) EpochOrder(int epoch)
    {
        var (order, baseSeed) = GlobalOrder(epoch);
        if (WorldSize == 1)
        {
            return (order, baseSeed);
        }

        var shard = new int[ShardSize];
        for (var i = 0; i < shard.Length; i++)
        {
            shard[i] = order[((i * WorldSize) + Rank) % order.Length];
        }

        return (shard, baseSeed);
    }

    private (int[] Order, long BaseSeed) GlobalOrder(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        lock (_orderGate)
        {
            using var scope = DisposeScope.Enter();
            if (_generator is null || epoch <= _generatorEpoch)
            {
                _generator?.Dispose();
                _generator = new Generator(Seed);
                _generatorEpoch = -1;
            }

            int[] order = [];
            long baseSeed = 0;
            while (_generatorEpoch < epoch)
            {
                baseSeed = Tensor.Empty([], DType.Int64).RandomInPlace(_generator).Item<long>();
                if (Shuffle)
                {
                    order = Tensor.RandPerm(_dataset.Count, generator: _generator).ToArray<long>().Select(i => (int)i).ToArray();

                    // PyTorch's RandomSampler ends each pass with randperm(n)[:num_samples % n], an empty slice
                    // of a fresh permutation that still advances the generator: draw it too.
                    Tensor.RandPerm(_dataset.Count, generator: _generator);
                }
                else
                {
                    order = Enumerable.Range(0, _dataset.Count).ToArray();
                }
                _generatorEpoch++;
            }

            return (order, baseSeed);
        }
    }

    /// <summary>
    /// The batches of one epoch, prepared ahead on background threads. A batch's tensors are created when
    /// the enumerator moves to it, in the dispose scope current at that moment: enter the step's scope
    /// before calling MoveNext (as the trainer does) to free them with the step.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        var (order, baseSeed) = EpochOrder(epoch);
        var count = BatchCount;
        var channel = Channel.CreateBounded<Task<HostBatch>>(new BoundedChannelOptions(_workers) { SingleReader = true, SingleWriter = true });
        using var cancel = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var b = 0; b < count && !cancel.IsCancellationRequested; b++)
                {
                    var start = b * BatchSize;
                    var size = Math.Min(BatchSize, order.Length - start);
                    var indices = order.AsMemory(start, size);
                    await channel.Writer.WriteAsync(Task.Run(() => Build(indices.Span, baseSeed)), cancel.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // the consumer stopped early
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        });

        try
        {
            for (var b = 0; b < count; b++)
            {
                if (!channel.Reader.TryRead(out var next))
                {
                    next = channel.Reader.ReadAsync().AsTask().GetAwaiter().GetResult();
                }

                var host = next.GetAwaiter().GetResult();
                yield return new Batch(
                    ToDevice(Tensor.From(host.Images, host.Shape)),
                    host.Targets.ToBatch(ToDevice),
                    ToDevice(Tensor.From(host.Indices)))
                {
                    Draws = host.Draws is null ? null : Tensor.From(host.Draws),
                };
            }
        }
        finally
        {
            cancel.Cancel();
            producer.Wait();
            while (channel.Reader.TryRead(out var pending))
            {
                // Batches still in flight are waited for, not reported: their errors must not hide the one already thrown.
                ((Task)pending).ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
            }
        }
    }

    /// <summary>Moves a host tensor of a batch to <see cref="Device"/> (through pinned memory for CUDA).</summary>
    private Tensor ToDevice(Tensor host) => Device.Type switch
    {
        DeviceType.Cpu => host,
        DeviceType.Cuda => host.PinMemory().To(Device, nonBlocking: true),
        _ => host.To(Device),
    };

    /// <summary>
    /// Which of a sample's <paramref name="drawsPerImage"/> recorded draws an epoch replays: the first number the sample's
    /// generator (seeded by <see cref="SampleSeed"/> from the epoch's base seed and the index) gives, so it depends on the
    /// seed, the epoch and the index only.
    /// </summary>
    public static int ChooseDraw(long baseSeed, int index, int drawsPerImage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(drawsPerImage, 1);
        return new Random(SampleSeed(baseSeed, index)).Next(0, drawsPerImage);
    }

    /// <summary>A per-sample seed from the epoch's base seed and the index (SplitMix64), stable on every machine.</summary>
    public static int SampleSeed(long baseSeed, int index)
    {
        var z = unchecked((ulong)baseSeed + ((ulong)index * 0x9E3779B97F4A7C15UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    private HostBatch Build(ReadOnlySpan<int> indices, long baseSeed)
    {
        float[]? images = null;
        long[] shape = [];
        var targets = new ITarget[indices.Length];
        var ids = new long[indices.Length];
        var draws = RecordedDraws is null ? null : new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            var sample = _dataset.Get(indices[i]);
            var misfit = sample.Target.Misfit(sample.Image.Height, sample.Image.Width);
            if (misfit is not null)
            {
                throw new DataFormatException($"data-set index {indices[i]}: {misfit}");
            }

            Image image;
            ITarget target;
            if (RecordedDraws is { } recorded)
            {
                var draw = ChooseDraw(baseSeed, indices[i], recorded.DrawsPerImage);
                (image, target) = TransformDraw.Replay(_transform, sample.Image, sample.Target, recorded.Parameters(indices[i], draw));
                draws![i] = draw;
            }
            else
            {
                (image, target) = _transform is null ? (sample.Image, sample.Target) : _transform.Apply(sample.Image, sample.Target, new Random(SampleSeed(baseSeed, indices[i])));
            }

            if (i > 0 && target.GetType() != targets[0].GetType())
            {
                throw new DataFormatException($"data-set index {indices[i]} is labelled with a {target.Kind} but data-set index {indices[0]} with a {targets[0].Kind}; a batch holds one kind of target");
            }

            if (images is null)
            {
                shape = [indices.Length, image.Channels, image.Height, image.Width];
                images = new float[indices.Length * image.Data.Length];
            }
            else if (image.Data.Length * indices.Length != images.Length || image.Channels != shape[1] || image.Height != shape[2])
            {
                throw new InvalidOperationException(
                    $"batch item {i} (data-set index {indices[i]}) is {image.Channels}x{image.Height}x{image.Width} but the first was {shape[1]}x{shape[2]}x{shape[3]}: add a Resize or crop transform");
            }

            image.Data.CopyTo(images, i * image.Data.Length);
            targets[i] = target;
            ids[i] = sample.Index;
        }

        return new HostBatch(images ?? [], shape, targets[0].Collator.Gather(targets), ids, draws);
    }

    private sealed record HostBatch(float[] Images, long[] Shape, IGatheredTargets Targets, long[] Indices, long[]? Draws);
}
