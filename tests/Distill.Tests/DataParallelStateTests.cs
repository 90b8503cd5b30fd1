using Distill.Methods;
using Distill.Models;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// What data-parallel training keeps equal to one process beyond the gradients, on the in-process thread group: sharded
/// evaluation (no wrapped duplicates, the ranks' results combined), the matching step, CRD's memory and FCOS's loss
/// normalisers. Test batches of one image make every forward identical whatever the sharding, so metrics compare exactly.
/// </summary>
public sealed class DataParallelStateTests
{
    private static readonly Lazy<GlyphPool> TestGlyphs = new(() => GlyphPool.ForSplit(SceneSplit.Test));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ClassificationEvaluation_ShardedOverRanks_GivesOneProcesssCountsAndConfusionMatrix(int world)
    {
        // 13 images: the shards are unequal, and a padded shard would count wrapped images twice.
        var data = TrainerTests.StripesDataset(13);
        var models = Enumerable.Range(0, world + 1).Select(_ =>
        {
            TorchRuntime.ManualSeed(4);
            return ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        }).ToArray();
        var task = new ClassificationTask();
        var expected = task.Evaluate(models[world], new DataLoader(data, 1, workers: 1), breakdown: true);
        var ranks = ThreadProcessGroup.Run(world, g => task.Evaluate(models[g.Rank], new DataLoader(data, 1, workers: 1), breakdown: true, group: g));
        foreach (var actual in ranks)
        {
            Assert.Equal(13, actual.Samples);
            Assert.Equal(expected.Metrics, actual.Metrics);
            Assert.Equal(expected.Confusion!.ToArray(), actual.Confusion!.ToArray());
            Assert.Equal(expected.Breakdown, actual.Breakdown);
        }

        foreach (var m in models)
        {
            m.Dispose();
        }
    }

    [Fact]
    public void SegmentationEvaluation_ShardedOverTwoRanks_SumsTheConfusionMatricesToOneProcesssMIoU()
    {
        // 5 images of 3x4 pixels, 4 classes: the "model" predicts the image's one-hot channels.
        var random = new Random(7);
        var prediction = Enumerable.Range(0, 5 * 12).Select(_ => (byte)random.Next(4)).ToArray();
        var truth = Enumerable.Range(0, 5 * 12).Select(_ => (byte)random.Next(4)).ToArray();
        var data = new SegmentationTaskTests.FixedDataset(prediction, truth, classes: 4, height: 3, width: 4);
        using var model = new SegmentationTaskTests.Passthrough();
        var expected = SegmentationTask.Default.Evaluate(model, new DataLoader(data, 2, workers: 1), breakdown: true);
        var ranks = ThreadProcessGroup.Run(2, g =>
        {
            using var own = new SegmentationTaskTests.Passthrough();
            return SegmentationTask.Default.Evaluate(own, new DataLoader(data, 2, workers: 1), breakdown: true, group: g);
        });
        foreach (var actual in ranks)
        {
            Assert.Equal(5, actual.Samples);
            Assert.Equal(expected.Metrics, actual.Metrics);
            Assert.Equal(expected.Breakdown, actual.Breakdown);
        }
    }

    [Fact]
    public void DetectionEvaluation_ShardedOverTwoRanks_GathersEveryImageAndGivesOneProcesssCocoNumbers()
    {
        // An untrained detector whose every location predicts a box 1.5 strides to each side, all kept (score threshold 0,
        // hardly any suppression): some match the ground truth, so the AP is not trivially 0.
        var task = new DetectionTask(inference: new FcosPostProcess { ScoreThreshold = 0, NmsThreshold = 0.99 });
        var detectors = Enumerable.Range(0, 3).Select(_ =>
        {
            TorchRuntime.ManualSeed(0);
            var detector = DetectionModels.Create("det_scene_student");
            using var noGrad = Autograd.NoGrad();
            foreach (var (name, p) in detector.NamedParameters().Where(p => p.Name.Contains("bbox_pred", StringComparison.Ordinal)))
            {
                p.FillInPlace(name.EndsWith("bias", StringComparison.Ordinal) ? 1.5 : 0);
            }

            return detector;
        }).ToArray();
        var expected = task.Evaluate(detectors[2], Scenes(5), breakdown: true);
        Assert.True(expected.Metrics["ar100"] > 0, "the case has no matched detection");
        var ranks = ThreadProcessGroup.Run(2, g => task.Evaluate(detectors[g.Rank], Scenes(5), breakdown: true, group: g));
        foreach (var actual in ranks)
        {
            Assert.Equal(5, actual.Samples);
            Assert.Equal(expected.Metrics, actual.Metrics);
            Assert.Equal(expected.Breakdown, actual.Breakdown);
        }

        foreach (var d in detectors)
        {
            d.Dispose();
        }
    }

    [Fact]
    public void EvaluationShard_DealsEverySampleOnce_WithoutWrapping()
    {
        var loader = new DataLoader(TrainerTests.StripesDataset(7), 2, workers: 1);
        var shards = Enumerable.Range(0, 3).Select(r => loader.EvaluationShard(r, 3).EpochOrder(0).Order).ToArray();
        Assert.Equal([0, 3, 6], shards[0]);
        Assert.Equal([1, 4], shards[1]);
        Assert.Equal([2, 5], shards[2]);
        Assert.Empty(new DataLoader(TrainerTests.StripesDataset(1), 1).EvaluationShard(1, 2).Epoch(0));
    }

    [Fact]
    public void MatchingStep_TwoRanksWithHalfTheCalibrationBatches_SolveOneProcesssAssignment()
    {
        // 8 images in two batches of 4 for one process; each rank reads its half of every batch.
        TorchRuntime.ManualSeed(2);
        var student = Tensor.Randn([8, 3, 4, 4]);
        var teacher = Tensor.Randn([8, 6, 4, 4]);
        var expected = Calibrated(null, [(student.Narrow(0, 0, 4), teacher.Narrow(0, 0, 4)), (student.Narrow(0, 4, 4), teacher.Narrow(0, 4, 4))]);
        var ranks = ThreadProcessGroup.Run(2, g =>
        {
            var rows = Tensor.From(new long[] { g.Rank, g.Rank + 2 });
            var batches = new[] { 0, 4 }.Select(start => (student.Narrow(0, start, 4).IndexSelect(0, rows), teacher.Narrow(0, start, 4).IndexSelect(0, rows))).ToArray();
            return Calibrated(g, batches);
        });
        Assert.Equal(expected, ranks[0]);
        Assert.Equal(expected, ranks[1]);
    }

    [Fact]
    public void CrdBankStep_TwoRanksWithHalfTheBatch_KeepIdenticalBanksEqualToOneProcesss()
    {
        // The normalisers depend on the random negatives of the first batch: identical on the ranks, not one process's.
        AssertCrdMemory(queueSize: 0, ["student_memory", "teacher_memory"], ["student_normalizer", "teacher_normalizer"]);
    }

    [Fact]
    public void CrdQueueStep_TwoRanksWithHalfTheBatch_EnqueueTheWholeBatchInOneProcesssOrder()
    {
        AssertCrdMemory(queueSize: 12, ["student_memory", "teacher_memory", "queue_labels", "queue_next", "student_normalizer", "teacher_normalizer"], []);
    }

    [Fact]
    public void FcosLoss_TwoRanksWithHalfTheImages_AverageToTheWholeBatchsLoss()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(0);
        using var detector = DetectionModels.Create("det_scene_student");
        var batch = Scenes(4, batch: 4).Epoch(0).First();
        var boxes = (BoxBatch)batch.Targets;
        var levels = detector.Levels(96, 96);
        var output = Tensor.Randn([4, levels.Count, 15]) * 0.5;
        var whole = FcosLoss.Compute(output, FcosTargets.Assign(boxes, levels));
        var halves = ThreadProcessGroup.Run(2, g =>
        {
            // Rank 0 takes images 0 and 1, rank 1 images 2 and 3.
            var images = new[] { 2 * g.Rank, (2 * g.Rank) + 1 };
            var own = new BoxBatch([.. images.Select(i => boxes.Boxes[i])], [.. images.Select(i => boxes.Labels[i])], [.. images.Select(i => boxes.Crowd[i])],
                [.. images.Select(i => boxes.Areas[i])], [.. images.Select(i => boxes.ImageSizes[i])]);
            var losses = FcosLoss.Compute(output.Narrow(0, 2 * g.Rank, 2), FcosTargets.Assign(own, levels), group: g);
            return new[] { losses.Classification.Item<float>(), losses.Regression.Item<float>(), losses.Centerness.Item<float>(), losses.Positives };
        });

        // Unequal shares of the positives: per-rank normalisers would weight the ranks' images differently.
        Assert.NotEqual(halves[0][3], halves[1][3]);
        float[] expected = [whole.Classification.Item<float>(), whole.Regression.Item<float>(), whole.Centerness.Item<float>()];
        for (var t = 0; t < 3; t++)
        {
            // The gradients averaged over the ranks are those of the mean of the ranks' losses.
            Assert.Equal(expected[t], (halves[0][t] + halves[1][t]) / 2, 1e-5 * Math.Max(1, Math.Abs(expected[t])));
        }
    }

    private static DataLoader Scenes(int count, int batch = 1) =>
        new(new DetectionSceneSet(TestGlyphs.Value, SceneSplit.Test, count), batch, seed: 1,
            transform: new Normalize([DetectionSceneSet.Mean], [DetectionSceneSet.Std]), workers: 1);

    private static long[] Calibrated(ThreadProcessGroup? group, (Tensor Student, Tensor Teacher)[] batches)
    {
        using var method = new MatchingGuidedDistillation(new() { Reducer = "amp" }, ["stage1"], [3], [6], [new double[6]], [1]);
        method.BeginCalibration();
        foreach (var (student, teacher) in batches)
        {
            method.Calibrate(new DistillationInputs(Tensor.Zeros([student.Size(0), 2]), null, Tensor.Zeros([student.Size(0)], DType.Int64), Tensor.Zeros([1]),
                new FeatureMaps(new Dictionary<string, Tensor> { ["stage1.preact"] = student }, "student"),
                new FeatureMaps(new Dictionary<string, Tensor> { ["stage1.preact"] = teacher }, "teacher"), 1) { ProcessGroup = group });
        }

        method.EndCalibration();
        var a = method.Assignment(0);
        // The G copies of a student channel are interchangeable: compare each channel's matched set.
        return [.. Enumerable.Range(0, a.GetLength(0)).SelectMany(i => Enumerable.Range(0, a.GetLength(1)).Select(k => a[i, k]).Order())];
    }

    private static void AssertCrdMemory(int queueSize, string[] asOneProcess, string[] acrossRanks)
    {
        string[] buffers = [.. asOneProcess, .. acrossRanks];
        int[] labels = [.. Enumerable.Range(0, 30).Select(i => i % 3)];
        var options = new ContrastiveRepresentationDistillation.Options { FeatDim = 6, NceK = 7, QueueSize = queueSize };
        var methods = Enumerable.Range(0, 3).Select(_ =>
        {
            TorchRuntime.ManualSeed(1);
            return new ContrastiveRepresentationDistillation(options, 4, 5, labels);
        }).ToArray();
        TorchRuntime.ManualSeed(2);
        var student = Tensor.Randn([6, 4]);
        var teacher = Tensor.Randn([6, 5]);
        var indices = Tensor.From([3L, 10, 29, 4, 17, 22]);
        methods[2].ComputeLoss(CrdInputs(student, teacher, indices, labels, null));
        var ranks = ThreadProcessGroup.Run(2, g =>
        {
            // The loader deals the batch's rows to the ranks in turn: rank r holds rows r, r + 2, r + 4.
            var rows = Tensor.From(new long[] { g.Rank, g.Rank + 2, g.Rank + 4 });
            methods[g.Rank].ComputeLoss(CrdInputs(student.IndexSelect(0, rows), teacher.IndexSelect(0, rows), indices.IndexSelect(0, rows), labels, g));
            return buffers.Select(b => methods[g.Rank].NamedBuffers().First(x => x.Name == b).Buffer.To(DType.Float64).ToArray<double>()).ToArray();
        });
        for (var i = 0; i < buffers.Length; i++)
        {
            Assert.Equal(ranks[0][i], ranks[1][i]);
            if (i >= asOneProcess.Length)
            {
                continue;
            }

            var single = methods[2].NamedBuffers().First(x => x.Name == buffers[i]).Buffer.To(DType.Float64).ToArray<double>();
            // Unit-norm rows and a normaliser of exp(1/τ)-sized scores times N: float32 rounding of the sums' order.
            var tolerance = buffers[i].EndsWith("normalizer", StringComparison.Ordinal) ? 1e-5 * Math.Abs(single[0]) : 1e-6;
            Assert.All(single.Zip(ranks[0][i]), p => Assert.True(Math.Abs(p.First - p.Second) <= tolerance, $"{buffers[i]}: {p.First} vs {p.Second}"));
        }

        foreach (var m in methods)
        {
            m.Dispose();
        }
    }

    private static DistillationInputs CrdInputs(Tensor student, Tensor teacher, Tensor indices, int[] labels, ThreadProcessGroup? group)
    {
        var classes = Tensor.From(indices.ToArray<long>().Select(i => (long)labels[i]).ToArray());
        return new DistillationInputs(Tensor.Zeros([student.Size(0), 3]), Tensor.Zeros([student.Size(0), 3]), classes, indices,
            new FeatureMaps(new Dictionary<string, Tensor> { ["pooled"] = student }, "student"),
            new FeatureMaps(new Dictionary<string, Tensor> { ["pooled"] = teacher }, "teacher"), 1) { ProcessGroup = group };
    }
}
