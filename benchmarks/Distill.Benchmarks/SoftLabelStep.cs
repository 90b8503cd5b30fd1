using Distill.Engine.SoftLabels;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.NN.Optim;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The KD step from a soft-label store beside <see cref="KdStep"/>'s: the same resnet8x4 student, SGD and KD loss, but the
/// teacher's logits come from a store of a resnet32x4 teacher (built once, untimed, over <see cref="Images"/> random
/// 3x32x32 images with crop+flip, M = <see cref="Draws"/>) and each batch of 64 is the loader's replay of the recorded
/// draws (crop and flip parameters read back, applied on the loader's threads). So the timed step is what training from
/// the store costs: the replayed batch, the stored logits gathered for it, the student's forward and backward, SGD.
/// <see cref="KdPrepared"/> takes the loader out, as <see cref="KdStep"/> and PyTorch's KD step (one fixed batch) have
/// none: the replayed batches of two epochs are made once, untimed, and each step gathers the stored logits for its batch.
/// </summary>
internal sealed class SoftLabelStep : IDisposable
{
    /// <summary>Images in the store's data set (ten batches).</summary>
    public const int Images = 640;

    /// <summary>Recorded draws per image.</summary>
    public const int Draws = 2;

    private readonly string _folder = Directory.CreateTempSubdirectory("distill-bench-store-").FullName;
    private readonly SoftLabelStore _store;
    private readonly DataLoader _loader;
    private readonly ClassificationModel _student;
    private readonly Sgd _optimizer;
    private readonly KnowledgeDistillation _kd = new();
    private IEnumerator<Batch>? _batches;
    private int _epoch;
    private List<Batch>? _prepared;
    private int _next;

    /// <summary>Seeds torch with 0, builds the store with a resnet32x4 teacher on the CPU (untimed) and the student.</summary>
    public SoftLabelStep()
    {
        TorchRuntime.ManualSeed(0);
        var random = new Random(0);
        var pixels = new byte[Images * 3 * 32 * 32];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, Images).Select(_ => random.Next(100)).ToArray();
        var data = new InMemoryImageDataset(pixels, labels, 3, 32, 32, [.. Enumerable.Range(0, 100).Select(c => $"c{c}")]);
        var transform = new Compose(new RandomCrop(32, 32, 4), new RandomHorizontalFlip(), new Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]));
        var loader = new DataLoader(data, KdStep.Batch, shuffle: true, seed: 0, dropLast: true, transform: transform);
        var key = new SoftLabelKey("resnet32x4", new string('0', 64), "random", "-", Images, SoftLabelKey.DatasetSha256(data), TransformDraw.Describe(transform), Draws, 0);
        var path = Path.Combine(_folder, "store.safetensors");
        using (var teacher = ModelRegistry.Create("resnet32x4"))
        {
            SoftLabelStore.Build(path, key, teacher, loader, 0, Device.Cpu);
        }

        _store = SoftLabelStore.Open(path, key);
        _loader = loader.WithRecordedDraws(_store);
        // The student as distill train runs a classification student on the CPU (student.channels_last).
        _student = ModelRegistry.Create("resnet8x4");
        _student.To(MemoryFormat.ChannelsLast);
        _optimizer = new Sgd(_student.Parameters(), 0.05, momentum: 0.9, weightDecay: 5e-4);
    }

    /// <summary>One KD step from the store: the next replayed batch, its stored logits, the student, the KD loss, backward, SGD.</summary>
    public void Kd()
    {
        if (_batches is null || !_batches.MoveNext())
        {
            _batches?.Dispose();
            _batches = _loader.Epoch(_epoch++).GetEnumerator();
            _batches.MoveNext();
        }

        Step(_batches.Current);
    }

    /// <summary>One KD step from the store on the next of the batches replayed beforehand: its stored logits, the student, the KD loss, backward, SGD.</summary>
    public void KdPrepared()
    {
        _prepared ??= Prepare();
        Step(_prepared[_next++ % _prepared.Count]);
    }

    private List<Batch> Prepare()
    {
        var batches = new List<Batch>();
        for (var epoch = 0; epoch < 2; epoch++)
        {
            foreach (var batch in _loader.Epoch(1000 + epoch))
            {
                batch.Images.DetachFromScope();
                batch.Indices.DetachFromScope();
                batch.Labels.DetachFromScope();
                batch.Draws!.DetachFromScope();
                batches.Add(batch);
            }
        }

        return batches;
    }

    private void Step(Batch batch)
    {
        var t = _store.TeacherLogits(batch.Indices, batch.Draws!, Device.Cpu);
        var y = batch.Labels;
        var s = _student.Forward(batch.Images.Contiguous(MemoryFormat.ChannelsLast));
        _optimizer.ZeroGrad();
        _kd.ComputeLoss(new DistillationInputs(s, t, y, batch.Indices, null, null, 1)).Total().Backward();
        _optimizer.Step();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _batches?.Dispose();
        foreach (var batch in _prepared ?? [])
        {
            batch.Images.Dispose();
            batch.Indices.Dispose();
            batch.Labels.Dispose();
            batch.Draws!.Dispose();
        }

        _kd.Dispose();
        _optimizer.Dispose();
        _student.Dispose();
        _store.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
