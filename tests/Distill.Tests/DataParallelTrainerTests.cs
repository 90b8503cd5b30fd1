using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>
/// The trainer's data-parallel path on the in-process thread group: two ranks with half batches reach the weights of one
/// process with the whole batch (a BatchNorm-free model, so per-rank batch statistics play no part).
/// </summary>
public sealed class DataParallelTrainerTests
{
    private const int Batch = 16;
    private const int Epochs = 2;
    private const int Samples = 64; // a multiple of the batch: every rank's every batch is exactly half of the global one

    [Fact]
    public void PlainTraining_TwoRanksWithHalfBatches_EndWithTheWeightsOfOneProcessWithTheWholeBatch() =>
        AssertSameAsOneProcess(withTeacher: false);

    [Fact]
    public void Kd_TwoRanksWithHalfBatches_EndWithTheWeightsOfOneProcessWithTheWholeBatch() =>
        AssertSameAsOneProcess(withTeacher: true);

    [Fact]
    public void StartUp_RanksWithDifferentInitialisations_AllStartFromRankZerosWeights()
    {
        var models = new TinyNet[2];
        for (var r = 0; r < 2; r++)
        {
            TorchRuntime.ManualSeed((ulong)(10 + r));
            models[r] = new TinyNet();
        }

        var states = ThreadProcessGroup.Run(2, g =>
        {
            using var trainer = new Trainer(models[g.Rank], null, null, new TrainerOptions { Epochs = 1, ProcessGroup = g });
            trainer.Fit(new DataLoader(TrainerTests.StripesDataset(8), 4), new DataLoader(TrainerTests.StripesDataset(8), 4), startEpoch: 2); // no epoch: the start-up alone
            return Weights(models[g.Rank]);
        });
        Assert.Equal(states[0], states[1]);
        foreach (var m in models)
        {
            m.Dispose();
        }
    }

    [Theory]
    [InlineData(2, true, true)]
    [InlineData(2, false, false)]
    [InlineData(1, true, false)]
    [InlineData(0, true, false)]
    public void SyncBatchNorm_ConvertsTheStudentsBatchNormLayers_OnlyWhenAskedWithMoreThanOneRank(int worldSize, bool syncBatchNorm, bool converted)
    {
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 12));
        var group = worldSize == 0 ? null : ThreadProcessGroup.Create(worldSize)[0];
        // Building the trainer communicates nothing (the start-up broadcast comes with Fit), so one rank of the group suffices.
        using var trainer = new Trainer(student, null, null, new TrainerOptions { SyncBatchNorm = syncBatchNorm, ProcessGroup = group });
        var layers = student.NamedModules().Select(m => m.Module).OfType<BatchNorm>().ToArray();
        Assert.NotEmpty(layers);
        Assert.All(layers, bn => Assert.Same(converted ? group : null, bn.ProcessGroup));
    }

    [Fact]
    public void GradientBuckets_AreCappedAndCoverEveryParameterOnce()
    {
        TorchRuntime.ManualSeed(1);
        using var model = new TinyNet();
        var parameters = model.Parameters().ToArray();
        var group = ThreadProcessGroup.Create(2)[0];
        // 8 * 1 * 3 * 3 + 8 + 2 * 8 + 2 = 98 floats; a cap of 100 bytes (25 floats) puts each tensor in its own bucket but for the small ones.
        using var parallel = new DataParallel(group, [model], parameters, [], bucketBytes: 100);
        Assert.Equal(parameters.Sum(p => p.NumberOfElements), parallel.BucketElements.Sum());
        Assert.All(parallel.BucketElements, e => Assert.True(e * 4 <= 100 || parameters.Any(p => p.NumberOfElements == e), $"bucket of {e} elements"));
        using var whole = new DataParallel(group, [model], parameters, []);
        Assert.Equal([98L], whole.BucketElements);
    }

    private static void AssertSameAsOneProcess(bool withTeacher)
    {
        var data = TrainerTests.StripesDataset(Samples);
        var options = new TrainerOptions { Epochs = Epochs, LearningRate = 0.1, Schedule = "cosine" };

        // One process, the whole batch.
        using var singleTeacher = withTeacher ? Teacher() : null;
        TorchRuntime.ManualSeed(3);
        using var single = new TinyNet();
        IReadOnlyList<EpochResult> expected;
        using (var trainer = new Trainer(single, singleTeacher, withTeacher ? new KnowledgeDistillation() : null, options))
        {
            expected = trainer.Fit(new DataLoader(data, Batch, shuffle: true, seed: 5), new DataLoader(data, 32));
        }

        // Two ranks, half the batch each. Rank 1 starts from other weights: the start-up broadcast must replace them.
        var students = new TinyNet[2];
        var teachers = new TinyNet?[2];
        for (var r = 0; r < 2; r++)
        {
            teachers[r] = withTeacher ? Teacher() : null;
            TorchRuntime.ManualSeed(r == 0 ? 3UL : 77UL);
            students[r] = new TinyNet();
        }

        var ranks = ThreadProcessGroup.Run(2, g =>
        {
            var train = new DataLoader(data, Batch / 2, shuffle: true, seed: 5, rank: g.Rank, worldSize: 2);
            using var distiller = withTeacher ? new KnowledgeDistillation() : null;
            using var trainer = new Trainer(students[g.Rank], teachers[g.Rank], distiller, options with { ProcessGroup = g });
            var results = trainer.Fit(train, new DataLoader(data, 32));
            return (Results: results, Weights: Weights(students[g.Rank]));
        });

        var reference = Weights(single);
        // Both ranks step the same averaged gradients: their weights agree bit for bit.
        Assert.Equal(ranks[0].Weights, ranks[1].Weights);

        // The only difference from one process is the order of the batch sums (two means of 8, averaged, for one mean of
        // 16): a float32 sum of n terms is off by about lambda u sqrt(n) of its size (lambda = 6, u = 2^-24, n = 16), in
        // either run, so the gradients differ by twice that relative to their size; over K = 8 steps the weights carry at
        // most K such differences of an update (lr * gradient, below the weights' size here), so 8 * 2 * 6 * 2^-24 * 4 of
        // the weights' RMS, about 2.3e-5, plus 1e-6 for weights near zero.
        var bound = 8 * 2 * GoldenTolerance.Lambda * GoldenTolerance.Float32UnitRoundoff * Math.Sqrt(2 * (Batch / 2));
        foreach (var (name, values) in reference)
        {
            var rms = Math.Sqrt(values.Average(v => (double)v * v));
            var got = ranks[0].Weights[name];
            for (var i = 0; i < values.Length; i++)
            {
                var diff = Math.Abs(got[i] - values[i]);
                Assert.True(diff <= 1e-6 + (bound * rms), $"{name}[{i}]: two ranks {got[i]:R}, one process {values[i]:R} (difference {diff:G3}, bound {1e-6 + (bound * rms):G3})");
            }
        }

        // Logged terms are averaged over the whole job, and the evaluation sees the whole test set on every rank.
        for (var e = 0; e < Epochs; e++)
        {
            Assert.Equal(expected[e].TestAccuracy, ranks[0].Results[e].TestAccuracy);
            Assert.Equal(expected[e].TestAccuracy, ranks[1].Results[e].TestAccuracy);
            Assert.Equal(expected[e].TrainAccuracy, ranks[0].Results[e].TrainAccuracy, 6);
            foreach (var (term, value) in expected[e].LossTerms)
            {
                Assert.Equal(value, ranks[0].Results[e].LossTerms[term], 4);
                Assert.Equal(ranks[0].Results[e].LossTerms[term], ranks[1].Results[e].LossTerms[term]);
            }
        }

        foreach (var m in students.Concat(teachers))
        {
            m?.Dispose();
        }
    }

    /// <summary>The same frozen teacher for every run and rank (the teacher never communicates: each rank loads its own copy).</summary>
    private static TinyNet Teacher()
    {
        TorchRuntime.ManualSeed(50);
        return new TinyNet();
    }

    private static Dictionary<string, float[]> Weights(Module model)
    {
        using var scope = DisposeScope.Enter();
        return model.StateDict().ToDictionary(p => p.Key, p => p.Value.To(DType.Float32).ToArray<float>());
    }

    /// <summary>A BatchNorm-free classifier: conv, ReLU, global average pool, linear.</summary>
    private sealed class TinyNet : ClassificationModel
    {
        private readonly Conv2d _conv;
        private readonly Linear _fc;

        public TinyNet()
        {
            _conv = RegisterModule("conv", new Conv2d(1, 8, 3, padding: 1));
            _fc = RegisterModule("fc", new Linear(8, 2));
            AddTap("logits", "fc");
        }

        protected override Tensor ForwardCore(Tensor input) =>
            _fc.Forward(F.AdaptiveAvgPool2d(F.Relu(_conv.Forward(input)), (1, 1)).Flatten(1));
    }
}
