using Distill.Engine;
using Distill.Engine.SoftLabels;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// The soft-label store: a student's image and the stored teacher output for (seed, epoch, index) equal the random
/// application of that draw and the online teacher on that very image; a store of another teacher, data set or
/// transforms is refused naming the difference; a killed build resumes; top-k keeps the top classes and spreads the rest.
/// </summary>
public sealed class SoftLabelStoreTests : IDisposable
{
    private const ulong BuildSeed = 11;
    private readonly string _folder = Directory.CreateTempSubdirectory("distill-softlabels-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ForGivenSeedEpochAndIndex_TheStudentsImageIsTheDrawsRandomApplication_AndTheStoredLogitsAreTheOnlineTeachers()
    {
        var data = TrainerTests.StripesDataset(40);
        var transform = Transform();
        using var teacher = Teacher(classes: 2);
        var path = Build(data, transform, teacher, draws: 3, topK: 0, chunkImages: 16);
        using var store = SoftLabelStore.Open(path, Key(data, transform, 0, 0));
        var loader = new DataLoader(data, 8, shuffle: true, seed: 5, transform: transform).WithRecordedDraws(store);
        var used = new HashSet<int>();
        for (var epoch = 0; epoch < 3; epoch++)
        {
            var baseSeed = loader.EpochOrder(epoch).BaseSeed;
            foreach (var batch in loader.Epoch(epoch))
            {
                using var scope = DisposeScope.Enter();
                var indices = batch.Indices.ToArray<long>();
                var draws = batch.Draws!.ToArray<long>();
                var pixels = batch.Images.ToArray<float>();
                var size = pixels.Length / indices.Length;
                for (var b = 0; b < indices.Length; b++)
                {
                    var index = (int)indices[b];
                    Assert.Equal(DataLoader.ChooseDraw(baseSeed, index, 3), draws[b]);
                    used.Add((int)draws[b]);
                    // The draw as a plain random application (no recording, no replay) with the build's generator for (index, draw).
                    var expected = transform.Apply(data.Get(index).Image, SoftLabelStore.DrawRandom(BuildSeed, index, (int)draws[b]));
                    Assert.Equal(expected.Data, pixels.AsSpan(b * size, size).ToArray());
                }

                // The online teacher on the very images the student receives. Eval mode: each row depends on its own image only,
                // by the same ops in the same order as when the store was built (in other batches), so the rows agree to the
                // last bits that a batch-size-dependent convolution kernel may change: logits of magnitude ~1 after 8 layers
                // at float32 (eps 1.2e-7) stay within 1e-5.
                Tensor online;
                using (Autograd.NoGrad())
                {
                    online = teacher.Forward(batch.Images);
                }

                var stored = store.TeacherLogits(batch.Indices, batch.Draws!, Device.Cpu);
                Assert.Equal(online.Shape, stored.Shape);
                var gap = (online - stored).Abs().Max().Item<float>();
                Assert.True(gap <= 1e-5f, $"stored logits differ from the online teacher's by {gap}");
            }
        }

        Assert.Equal(3, used.Count);
    }

    [Theory]
    [InlineData("teacher", "the teacher checkpoint (SHA-256)")]
    [InlineData("data", "the data set's content")]
    [InlineData("transforms", "the training transforms")]
    public void Open_AStoreOfAnotherTeacherDataSetOrTransforms_IsRefusedNamingWhatDiffers(string changed, string named)
    {
        var data = TrainerTests.StripesDataset(24);
        var transform = Transform();
        using var teacher = Teacher(classes: 2);
        var path = Build(data, transform, teacher, draws: 2, topK: 0, chunkImages: 64);
        var expected = changed switch
        {
            "teacher" => Key(data, transform, 0, 0) with { TeacherSha256 = new string('0', 64) },
            "data" => Key(Shifted(data), transform, 0, 0),
            _ => Key(data, new Compose(new RandomCrop(16, 16, 3), new RandomHorizontalFlip(), new Normalize([0.5], [0.25])), 0, 0),
        };
        var e = Assert.Throws<SoftLabelStoreException>(() => SoftLabelStore.Open(path, expected));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains("rebuild", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ATruncatedStore_IsRefusedBeforeUse()
    {
        var data = TrainerTests.StripesDataset(24);
        var transform = Transform();
        using var teacher = Teacher(classes: 2);
        var path = Build(data, transform, teacher, draws: 2, topK: 0, chunkImages: 64);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^7]);
        var e = Assert.Throws<SoftLabelStoreException>(() => SoftLabelStore.Open(path, Key(data, transform, 0, 0)));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_KilledAfterAChunk_ResumesFromItsWholeChunks_AndWritesTheSameStore()
    {
        var data = TrainerTests.StripesDataset(40);
        var transform = Transform();
        using var teacher = Teacher(classes: 2);
        var straight = Build(data, transform, teacher, draws: 2, topK: 0, chunkImages: 16, name: "straight.safetensors");

        var path = Path.Combine(_folder, "resumed.safetensors");
        var key = Key(data, transform, 2, 0);
        var loader = new DataLoader(data, 8, transform: transform);
        Assert.Throws<OperationCanceledException>(() => SoftLabelStore.Build(path, key, teacher, loader, BuildSeed, Device.Cpu,
            new Reporter(p => throw new OperationCanceledException()), chunkImages: 16));
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(SoftLabelStore.ChunkPath(path + ".partial", 0)));
        Assert.False(File.Exists(SoftLabelStore.ChunkPath(path + ".partial", 1)));

        var reports = new List<int>();
        SoftLabelStore.Build(path, key, teacher, loader, BuildSeed, Device.Cpu, new Reporter(p => reports.Add(p.Done)), chunkImages: 16);
        Assert.Equal([16, 32, 40], reports);
        Assert.False(Directory.Exists(path + ".partial"));
        Assert.Equal(File.ReadAllBytes(straight), File.ReadAllBytes(path));
    }

    [Fact]
    public void TopK_KeepsTheTeachersTopProbabilities_AndSpreadsTheRestEvenly()
    {
        var data = TrainerTests.StripesDataset(16);
        var transform = Transform();
        using var teacher = Teacher(classes: 5);
        var full = Build(data, transform, teacher, draws: 2, topK: 0, chunkImages: 64, name: "full.safetensors");
        var top = Build(data, transform, teacher, draws: 2, topK: 2, chunkImages: 64, name: "top.safetensors");
        using var fullStore = SoftLabelStore.Open(full, Key(data, transform, 0, 0));
        using var topStore = SoftLabelStore.Open(top, Key(data, transform, 0, 0));
        Assert.Equal(2, topStore.Key.TopK);
        using var scope = DisposeScope.Enter();
        var indices = Tensor.From(Enumerable.Range(0, 16).Select(i => (long)i).ToArray());
        var draws = Tensor.From(Enumerable.Range(0, 16).Select(i => (long)(i % 2)).ToArray());
        var p = Functional.Softmax(fullStore.TeacherLogits(indices, draws, Device.Cpu), 1).ToArray<float>();
        var q = Functional.Softmax(topStore.TeacherLogits(indices, draws, Device.Cpu), 1).ToArray<float>();
        for (var row = 0; row < 16; row++)
        {
            var pr = p.AsSpan(row * 5, 5).ToArray();
            var qr = q.AsSpan(row * 5, 5).ToArray();
            var order = Enumerable.Range(0, 5).OrderByDescending(c => pr[c]).ToArray();
            var rest = (1 - pr[order[0]] - pr[order[1]]) / 3;
            // Probabilities in [0, 1] through exp, log and softmax in float32: a few ulps of 1.
            Assert.Equal(pr[order[0]], qr[order[0]], 1e-6);
            Assert.Equal(pr[order[1]], qr[order[1]], 1e-6);
            foreach (var c in order[2..])
            {
                Assert.Equal(rest, qr[c], 1e-6);
            }
        }
    }

    [Fact]
    public void Trainer_FromTheStore_TrainsKdWithoutATeacher_AndRefusesAMethodReadingTeacherFeatures()
    {
        var data = TrainerTests.StripesDataset(32);
        var transform = Transform();
        using var teacher = Teacher(classes: 2);
        var path = Build(data, transform, teacher, draws: 2, topK: 0, chunkImages: 64);
        using var store = SoftLabelStore.Open(path, Key(data, transform, 0, 0));
        var train = new DataLoader(data, 8, shuffle: true, seed: 3, transform: transform).WithRecordedDraws(store);
        var test = new DataLoader(data, 16, transform: new Normalize([0.5], [0.25]));
        TorchRuntime.ManualSeed(1);
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using (var trainer = new Trainer(student, null, new KnowledgeDistillation(), new TrainerOptions { Epochs = 1, Schedule = "cosine" }, softLabels: store))
        {
            var result = trainer.Fit(train, test);
            Assert.True(double.IsFinite(result[0].LossTerms["kd"]) && result[0].LossTerms["kd"] > 0);
            Assert.Throws<ArgumentException>(() => trainer.Fit(new DataLoader(data, 8, transform: transform), test));
        }

        using var features = new TeacherTapReader();
        var e = Assert.Throws<ArgumentException>(() => new Trainer(student, teacher, features, new TrainerOptions { Epochs = 1 }, softLabels: store));
        Assert.Contains("method 'tap_reader' reads the teacher's features (stage1)", e.Message, StringComparison.Ordinal);
        Assert.Null(SoftLabelStore.Refusal(new KnowledgeDistillation()));
    }

    [Fact]
    public void DataParallelShards_ReplayTheSameDrawImageAndStoredLogitsPerSeedEpochAndIndex_AsOneProcess()
    {
        // 41 images: two shards of 21, the second padded with an image of the first (as a sampler pads), which must replay the same draw.
        var data = TrainerTests.StripesDataset(41);
        var transform = Transform();
        using var teacher = Teacher(classes: 2);
        var path = Build(data, transform, teacher, draws: 3, topK: 0, chunkImages: 64);
        using var store = SoftLabelStore.Open(path, Key(data, transform, 0, 0));
        DataLoader Loader(int rank, int worldSize) => new DataLoader(data, 4, shuffle: true, seed: 9, transform: transform, rank: rank, worldSize: worldSize).WithRecordedDraws(store);
        for (var epoch = 0; epoch < 3; epoch++)
        {
            var single = Seen(Loader(0, 1), epoch);
            Assert.Equal(data.Count, single.Count);
            var shards = new[] { Seen(Loader(0, 2), epoch), Seen(Loader(1, 2), epoch) };
            Assert.Equal(data.Count, shards.SelectMany(s => s.Keys).Distinct().Count());
            foreach (var (index, (draw, pixels, logits)) in shards.SelectMany(s => s))
            {
                Assert.Equal(single[index].Draw, draw);
                Assert.Equal(single[index].Pixels, pixels);
                Assert.Equal(single[index].Logits, logits);
            }
        }

        // Each index's draw, image and stored teacher logits in one epoch of a loader (a padded repeat must agree with the first).
        Dictionary<int, (long Draw, float[] Pixels, float[] Logits)> Seen(DataLoader loader, int epoch)
        {
            var seen = new Dictionary<int, (long Draw, float[] Pixels, float[] Logits)>();
            foreach (var batch in loader.Epoch(epoch))
            {
                using var scope = DisposeScope.Enter();
                var indices = batch.Indices.ToArray<long>();
                var draws = batch.Draws!.ToArray<long>();
                var pixels = batch.Images.ToArray<float>();
                var logits = store.TeacherLogits(batch.Indices, batch.Draws!, Device.Cpu).ToArray<float>();
                var (size, classes) = (pixels.Length / indices.Length, logits.Length / indices.Length);
                for (var b = 0; b < indices.Length; b++)
                {
                    var entry = (draws[b], pixels.AsSpan(b * size, size).ToArray(), logits.AsSpan(b * classes, classes).ToArray());
                    if (seen.TryGetValue((int)indices[b], out var first))
                    {
                        Assert.Equal(first.Draw, entry.Item1);
                        Assert.Equal(first.Pixels, entry.Item2);
                    }

                    seen[(int)indices[b]] = entry;
                }
            }

            return seen;
        }
    }

    private string Build(InMemoryImageDataset data, ITransform transform, TappedModel<Tensor> teacher, int draws, int topK, int chunkImages, string name = "store.safetensors")
    {
        var path = Path.Combine(_folder, name);
        SoftLabelStore.Build(path, Key(data, transform, draws, topK), teacher, new DataLoader(data, 8, transform: transform), BuildSeed, Device.Cpu, chunkImages: chunkImages);
        return path;
    }

    private static SoftLabelKey Key(IImageDataset data, ITransform transform, int draws, int topK) =>
        new("resnet8", new string('a', 64), "stripes", "/data/stripes", data.Count, SoftLabelKey.DatasetSha256(data), TransformDraw.Describe(transform), draws, topK);

    private static ITransform Transform() => new Compose(new RandomCrop(16, 16, 2), new RandomHorizontalFlip(), new Normalize([0.5], [0.25]));

    private static TappedModel<Tensor> Teacher(int classes)
    {
        TorchRuntime.ManualSeed(7);
        var teacher = ModelRegistry.Create("resnet8", new ModelOptions(classes, 1, 16));
        teacher.Eval();
        return teacher;
    }

    /// <summary>The same images one pixel darker: a data set of the same size and labels whose content differs.</summary>
    private static InMemoryImageDataset Shifted(InMemoryImageDataset data)
    {
        var pixels = new byte[data.Count * 16 * 16];
        for (var i = 0; i < data.Count; i++)
        {
            var image = data.Get(i).Image.Data;
            for (var j = 0; j < image.Length; j++)
            {
                pixels[(i * 256) + j] = (byte)Math.Max(0, (int)Math.Round(image[j] * 255) - 1);
            }
        }

        return new InMemoryImageDataset(pixels, [.. data.Labels], 1, 16, 16, data.Classes);
    }

    private sealed class Reporter(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }

    private sealed class TeacherTapReader : Distiller
    {
        public override string Name => "tap_reader";

        public override IReadOnlyList<string> TeacherTaps => ["stage1"];

        public override LossTerms ComputeLoss(DistillationInputs inputs) => throw new NotSupportedException();
    }
}
