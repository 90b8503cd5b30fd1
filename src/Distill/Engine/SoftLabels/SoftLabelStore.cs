using System.Globalization;
using System.Text.Json;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Engine.SoftLabels;

/// <summary>
/// A soft-label store: for every training image, M recorded augmentation draws (the parameters of each random transform,
/// <see cref="TransformDraw"/>) and the teacher's output on each drawn image, either the full logits (Float32) or the
/// top-k log-probabilities with the rest of the probability mass spread evenly over the other classes (as Fast Knowledge
/// Distillation's marginal smoothing keeps top-k soft labels). One safetensors file: tensors "draws" [N, M, P] Float64 and
/// "logits" [N, M, K], or "topk_values" [N, M, k], "topk_indices" [N, M, k] Int64 and "topk_rest" [N, M]; the
/// <see cref="SoftLabelKey"/>, the parameter names and the class count in its metadata (whose checksums the safetensors
/// reader verifies before use). A store serves a loader's <see cref="DataLoader.RecordedDraws"/> and the trainer's teacher
/// logits for the draws the loader chose.
/// </summary>
public sealed class SoftLabelStore : IRecordedDraws, IDisposable
{
    /// <summary>Images per chunk of a build: each chunk is written (atomically) to the partial folder as soon as it is done.</summary>
    public const int DefaultChunkImages = 2048;

    private const string KindKey = "distill.kind";
    private const string Kind = "soft_labels";
    private readonly double[] _draws;
    private readonly int _parameters;
    private readonly Tensor? _logits;
    private readonly Tensor? _topValues;
    private readonly Tensor? _topIndices;
    private readonly Tensor? _topRest;

    private SoftLabelStore(string path, SoftLabelKey key, IReadOnlyList<string> parameterNames, int classes, double[] draws, Tensor? logits, Tensor? topValues, Tensor? topIndices, Tensor? topRest)
    {
        Path = path;
        Key = key;
        ParameterNames = parameterNames;
        Classes = classes;
        _draws = draws;
        _parameters = parameterNames.Count;
        _logits = logits;
        _topValues = topValues;
        _topIndices = topIndices;
        _topRest = topRest;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>What the store was built from.</summary>
    public SoftLabelKey Key { get; }

    /// <summary>The names of a draw's parameters.</summary>
    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>The teacher's classes (K).</summary>
    public int Classes { get; }

    /// <summary>Images in the store (N).</summary>
    public int Count => Key.DatasetCount;

    /// <inheritdoc />
    public int DrawsPerImage => Key.Draws;

    /// <inheritdoc />
    public ReadOnlySpan<double> Parameters(int index, int draw)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        ArgumentOutOfRangeException.ThrowIfNegative(draw);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(draw, DrawsPerImage);
        return _draws.AsSpan(((index * DrawsPerImage) + draw) * _parameters, _parameters);
    }

    /// <summary>
    /// The generator draw <paramref name="draw"/> of image <paramref name="index"/> is made with when the store is built: seeded from
    /// the build's seed, the draw number and the index (<see cref="DataLoader.SampleSeed"/> twice), so a build is the same on every machine.
    /// </summary>
    public static Random DrawRandom(ulong seed, int index, int draw) =>
        new(DataLoader.SampleSeed(DataLoader.SampleSeed(unchecked((long)seed), draw), index));

    /// <summary>
    /// The teacher's logits for a batch [B, K] on <paramref name="device"/>: row b is image indices[b]'s draw draws[b] (the full
    /// logits as stored, or with top-k the log-probabilities of the top classes and the spread log-probability elsewhere).
    /// </summary>
    /// <param name="indices">Data-set indices [B] Int64 (any device).</param>
    /// <param name="draws">Draw numbers [B] Int64 (<see cref="Batch.Draws"/>).</param>
    /// <param name="device">Where the logits go.</param>
    public Tensor TeacherLogits(Tensor indices, Tensor draws, Device device)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(draws);
        using var scope = DisposeScope.Enter();
        var rows = (indices.To(Device.Cpu) * (long)DrawsPerImage) + draws.To(Device.Cpu);
        Tensor result;
        if (_logits is not null)
        {
            result = _logits.IndexSelect(0, rows);
        }
        else
        {
            var rest = _topRest!.IndexSelect(0, rows).View(-1, 1);
            result = (Tensor.Zeros([rows.Size(0), Classes]) + rest).Scatter(1, _topIndices!.IndexSelect(0, rows), _topValues!.IndexSelect(0, rows));
        }

        return result.To(device).MoveToOuterScope();
    }

    /// <summary>
    /// Why <paramref name="distiller"/> cannot train from a store (null when it can): a store holds the teacher's logits only, so
    /// a method that reads teacher features (taps), the teacher's classifier head or batch-norm statistics, or calibrates on the
    /// teacher keeps the online teacher; a method without a teacher has nothing to take from it.
    /// </summary>
    public static string? Refusal(Methods.Distiller? distiller) => distiller switch
    {
        null or { NeedsTeacher: false } => $"method '{distiller?.Name ?? "none"}' uses no teacher, so a soft-label store has nothing to give it; remove teacher.soft_labels",
        { TeacherTaps.Count: > 0 } => $"method '{distiller.Name}' reads the teacher's features ({string.Join(", ", distiller.TeacherTaps)}), which a soft-label store does not hold (it holds logits only); remove teacher.soft_labels to run the teacher online",
        Methods.IUsesClassifierHeads => $"method '{distiller.Name}' runs the teacher's classifier head on its features, which a soft-label store does not hold; remove teacher.soft_labels to run the teacher online",
        Methods.IReadsTeacherBatchNorm => $"method '{distiller.Name}' reads the teacher's batch-norm statistics and features, which a soft-label store does not hold; remove teacher.soft_labels to run the teacher online",
        Methods.ICalibratedMethod => $"method '{distiller.Name}' calibrates on the teacher's features, which a soft-label store does not hold; remove teacher.soft_labels to run the teacher online",
        _ => null,
    };

    /// <summary>Frees the stored tensors.</summary>
    public void Dispose()
    {
        _logits?.Dispose();
        _topValues?.Dispose();
        _topIndices?.Dispose();
        _topRest?.Dispose();
    }

    /// <summary>Opens a store and checks it was built for <paramref name="expected"/> (draws and top-k are the store's own: not compared).</summary>
    /// <exception cref="SoftLabelStoreException">The file is missing, corrupt or truncated, not a store, or built from something else (each difference named).</exception>
    public static SoftLabelStore Open(string path, SoftLabelKey expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (!File.Exists(path))
        {
            throw new SoftLabelStoreException($"soft-label store {path} does not exist (build it with `distill teacher --config TEACHER.yaml --resume --cache-soft-labels M`)");
        }

        SafeTensorsFile file;
        try
        {
            file = SafeTensors.Load(path);
        }
        catch (CheckpointFormatException e)
        {
            throw new SoftLabelStoreException($"soft-label store {e.Message}; rebuild it", e);
        }

        using (file)
        {
            SoftLabelKey key;
            try
            {
                if (file.Metadata.GetValueOrDefault(KindKey) != Kind)
                {
                    throw new FormatException($"{path}: not a soft-label store (its metadata lacks {KindKey}={Kind})");
                }

                key = SoftLabelKey.FromMetadata(file.Metadata, path);
            }
            catch (FormatException e)
            {
                throw new SoftLabelStoreException(e.Message, e);
            }

            var differences = expected with { Draws = key.Draws, TopK = key.TopK } is var want ? key.Differences(want, "store", "recipe") : [];
            if (differences.Count > 0)
            {
                throw new SoftLabelStoreException(
                    $"soft-label store {path} was built from something else: {string.Join("; ", differences)}. A stale store is never used: rebuild it (`distill teacher --config TEACHER.yaml --resume --cache-soft-labels {key.Draws}`) or remove teacher.soft_labels");
            }

            var names = JsonSerializer.Deserialize<string[]>(file.Metadata.GetValueOrDefault("soft_labels.parameters", "[]")) ?? [];
            var classes = int.Parse(file.Metadata.GetValueOrDefault("soft_labels.classes", "0"), NumberStyles.None, CultureInfo.InvariantCulture);
            var n = (long)key.DatasetCount;
            var m = (long)key.Draws;
            var draws = Expect(file, path, "draws", DType.Float64, [n, m, names.Length]);
            if (key.TopK == 0)
            {
                var logits = Expect(file, path, "logits", DType.Float32, [n, m, classes]);
                return new SoftLabelStore(path, key, names, classes, draws.ToArray<double>(), Take(file, "logits", [n * m, classes]), null, null, null);
            }

            Expect(file, path, "topk_values", DType.Float32, [n, m, key.TopK]);
            Expect(file, path, "topk_indices", DType.Int64, [n, m, key.TopK]);
            Expect(file, path, "topk_rest", DType.Float32, [n, m]);
            return new SoftLabelStore(path, key, names, classes, draws.ToArray<double>(), null,
                Take(file, "topk_values", [n * m, key.TopK]), Take(file, "topk_indices", [n * m, key.TopK]), Take(file, "topk_rest", [n * m]));
        }
    }

    /// <summary>
    /// Builds the store at <paramref name="path"/>: M draws per image of <paramref name="loader"/>'s data set and transform,
    /// the teacher's outputs on each drawn image (eval mode, no gradients, in batches of the loader's batch size). Chunks of
    /// <paramref name="chunkImages"/> images are written to <c>PATH.partial/</c> as they finish, so a killed build resumes
    /// from its last whole chunk (a partial folder of another key is discarded); the finished file is written atomically
    /// and the partial folder removed.
    /// </summary>
    /// <param name="path">The store file.</param>
    /// <param name="key">What it is built from (draws and top-k included).</param>
    /// <param name="teacher">The teacher, loaded.</param>
    /// <param name="loader">The training loader (its data set, transform and batch size).</param>
    /// <param name="seed">The draws' seed (<see cref="DrawRandom"/>).</param>
    /// <param name="device">Where the teacher runs.</param>
    /// <param name="progress">Images done so far and the total, after each chunk.</param>
    /// <param name="chunkImages">Images per chunk.</param>
    /// <param name="notices">Where a discarded partial build is announced.</param>
    /// <exception cref="NotSupportedException">A transform cannot record its draws.</exception>
    public static void Build(string path, SoftLabelKey key, TappedModel<Tensor> teacher, DataLoader loader, ulong seed, Device device,
        IProgress<(int Done, int Total)>? progress = null, int chunkImages = DefaultChunkImages, TextWriter? notices = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfLessThan(key.Draws, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkImages, 1);
        var names = TransformDraw.ParameterNames(loader.Transform);
        var dataset = loader.Dataset;
        var partial = path + ".partial";
        var keyFile = System.IO.Path.Combine(partial, "key.json");
        var keyText = JsonSerializer.Serialize(key.ToMetadata().OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary());
        if (Directory.Exists(partial) && (!File.Exists(keyFile) || File.ReadAllText(keyFile) != keyText))
        {
            notices?.WriteLine($"{partial}: a partial build of another teacher, data set, transforms, draws or top-k; starting over");
            Directory.Delete(partial, recursive: true);
        }

        Directory.CreateDirectory(partial);
        SafeTensors.WriteAtomically(keyFile, s => s.Write(System.Text.Encoding.UTF8.GetBytes(keyText)));
        teacher.Eval();
        var chunks = (dataset.Count + chunkImages - 1) / chunkImages;
        var total = dataset.Count;
        for (var c = 0; c < chunks; c++)
        {
            var chunkPath = ChunkPath(partial, c);
            var start = c * chunkImages;
            var count = Math.Min(chunkImages, total - start);
            if (File.Exists(chunkPath) && ChunkIsWhole(chunkPath))
            {
                progress?.Report((start + count, total));
                continue;
            }

            BuildChunk(chunkPath, key, teacher, loader, names.Count, start, count, seed, device);
            progress?.Report((start + count, total));
        }

        using (var scope = DisposeScope.Enter())
        {
            var parts = Enumerable.Range(0, chunks).Select(c => SafeTensors.Load(ChunkPath(partial, c))).ToArray();
            try
            {
                var tensors = parts[0].Tensors.Keys.Select(name => new KeyValuePair<string, Tensor>(name, Tensor.Cat(parts.Select(p => p.Tensors[name]).ToArray()))).ToList();
                var metadata = new Dictionary<string, string>(key.ToMetadata(), StringComparer.Ordinal)
                {
                    [KindKey] = Kind,
                    ["soft_labels.parameters"] = JsonSerializer.Serialize(names),
                    ["soft_labels.classes"] = parts[0].Metadata["soft_labels.classes"],
                    ["soft_labels.seed"] = seed.ToString(CultureInfo.InvariantCulture),
                    ["soft_labels.outputs"] = key.TopK == 0 ? "logits" : "top-k log-probabilities, the rest spread evenly",
                };
                SafeTensors.Save(path, tensors, metadata);
            }
            finally
            {
                foreach (var p in parts)
                {
                    p.Dispose();
                }
            }
        }

        Directory.Delete(partial, recursive: true);
        // The teacher's activations over the whole data set are freed by now; hand that heap back before training.
        TorchRuntime.ReleaseFreeMemory();
    }

    /// <summary>The chunk files of a partial build, in order.</summary>
    internal static string ChunkPath(string partial, int chunk) => System.IO.Path.Combine(partial, string.Create(CultureInfo.InvariantCulture, $"chunk-{chunk:D6}.safetensors"));

    private static bool ChunkIsWhole(string chunkPath)
    {
        try
        {
            SafeTensors.Load(chunkPath).Dispose();
            return true;
        }
        catch (CheckpointFormatException)
        {
            return false;
        }
    }

    private static void BuildChunk(string chunkPath, SoftLabelKey key, TappedModel<Tensor> teacher, DataLoader loader, int parameterCount, int start, int count, ulong seed, Device device)
    {
        var m = key.Draws;
        var draws = new double[count * m * parameterCount];
        var items = count * m;
        var batchSize = Math.Max(1, loader.BatchSize);
        using var scope = DisposeScope.Enter();
        var outputs = new List<Tensor>();
        for (var first = 0; first < items; first += batchSize)
        {
            var size = Math.Min(batchSize, items - first);
            float[]? pixels = null;
            long[] shape = [];
            for (var j = 0; j < size; j++)
            {
                var item = first + j;
                var index = start + (item / m);
                var draw = item % m;
                var sample = loader.Dataset.Get(index);
                var (image, _, parameters) = TransformDraw.ApplyRecording(loader.Transform, sample.Image, sample.Target, DrawRandom(seed, index, draw));
                parameters.CopyTo(draws, item * parameterCount);
                if (pixels is null)
                {
                    shape = [size, image.Channels, image.Height, image.Width];
                    pixels = new float[size * image.Data.Length];
                }

                image.Data.CopyTo(pixels, j * image.Data.Length);
            }

            using var noGrad = Autograd.NoGrad();
            var logits = teacher.Forward(Tensor.From(pixels!, shape).To(device)).To(Device.Cpu);
            outputs.Add(logits);
        }

        var all = Tensor.Cat(outputs.ToArray());
        var classes = all.Size(1);
        var tensors = new List<KeyValuePair<string, Tensor>> { new("draws", Tensor.From(draws, count, m, parameterCount)) };
        if (key.TopK == 0)
        {
            tensors.Add(new("logits", all.View(count, m, classes)));
        }
        else
        {
            var k = Math.Min(key.TopK, (int)classes);
            var logProbabilities = Functional.LogSoftmax(all, 1);
            var (values, indices) = logProbabilities.TopK(k, 1);
            // The mass the top k leave, spread evenly over the other classes (as log-probabilities); none left when k = K.
            var others = classes - k;
            var rest = others == 0 ? Tensor.Full([items], -1e30)
                : (1.0 - values.Exp().Sum(1L)).ClampMin(1e-30).Log() - Math.Log(others);
            tensors.Add(new("topk_values", values.View(count, m, k)));
            tensors.Add(new("topk_indices", indices.View(count, m, k)));
            tensors.Add(new("topk_rest", rest.View(count, m)));
        }

        SafeTensors.Save(chunkPath, tensors, new Dictionary<string, string> { ["soft_labels.classes"] = classes.ToString(CultureInfo.InvariantCulture) });
    }

    private static Tensor Expect(SafeTensorsFile file, string path, string name, DType dtype, long[] shape)
    {
        if (!file.Tensors.TryGetValue(name, out var tensor))
        {
            throw new SoftLabelStoreException($"soft-label store {path} lacks tensor '{name}'; rebuild it");
        }

        if (tensor.DType != dtype || !tensor.Shape.SequenceEqual(shape))
        {
            throw new SoftLabelStoreException($"soft-label store {path}: tensor '{name}' is {tensor.DType} {Tensor.FormatShape(tensor.Shape)}, expected {dtype} {Tensor.FormatShape(shape)} (from its metadata); rebuild it");
        }

        return tensor;
    }

    private static Tensor Take(SafeTensorsFile file, string name, long[] shape)
    {
        using var scope = DisposeScope.Enter();
        return file.Tensors[name].Reshape(shape).Contiguous().DetachFromScope();
    }
}
