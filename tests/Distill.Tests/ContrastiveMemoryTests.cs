using Distill.Methods;
using Distill.Models;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>CRD's memory: momentum updates of the batch's rows only, negatives of other classes only, and a queue that wraps.</summary>
public sealed class ContrastiveMemoryTests
{
    private static readonly int[] Labels = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();

    [Fact]
    public void BankStep_UpdatesOnlyTheBatchRows_WithMomentumThenNormalisation()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(1);
        using var crd = new ContrastiveRepresentationDistillation(new() { FeatDim = 6, NceK = 7 }, 4, 5, Labels);
        var before = Buffer(crd, "student_memory").Clone();
        var indices = Tensor.From([3L, 10, 29]);
        var (student, teacher) = (Tensor.Randn([3, 4]), Tensor.Randn([3, 5]));
        crd.ComputeLoss(Inputs(student, teacher, indices));
        var after = Buffer(crd, "student_memory");
        var embedding = Functional.Normalize(Functional.Linear(student, Param(crd, "student_embed.weight"), Param(crd, "student_embed.bias")), dim: 1);
        var expected = Functional.Normalize((before.IndexSelect(0, indices) * 0.5) + (embedding * 0.5), dim: 1);
        Assert.True((after.IndexSelect(0, indices) - expected).Abs().Max().Item<float>() < 1e-6);
        var untouched = Tensor.From(Enumerable.Range(0, 30).Where(i => i is not (3 or 10 or 29)).Select(i => (long)i).ToArray());
        Assert.Equal(0f, (after.IndexSelect(0, untouched) - before.IndexSelect(0, untouched)).Abs().Max().Item<float>());
    }

    [Fact]
    public void SampledNegatives_AreAlwaysOfAnotherClass_AndCoverThem()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(2);
        using var crd = new ContrastiveRepresentationDistillation(new() { FeatDim = 6, NceK = 500 }, 4, 5, Labels);
        var indices = new[] { 0, 1, 2, 5 };
        var sampled = crd.SampleNegatives(Tensor.From(indices.Select(i => (long)Labels[i]).ToArray()));
        Assert.Equal([4L, 500], sampled.Shape);
        var values = sampled.ToArray<long>();
        for (var b = 0; b < 4; b++)
        {
            var row = values.Skip(b * 500).Take(500).Select(i => (int)i).ToArray();
            Assert.DoesNotContain(row, i => Labels[i] == Labels[indices[b]]);
            Assert.Equal(20, row.Distinct().Count());
        }
    }

    [Fact]
    public void SampledNegatives_AreDistinctWithinEachRow_AndOfAnotherClass_AsTheOfficialSampler()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(4);

        // Pools of 20 other-class samples; K = 20 takes the whole pool (a permutation of it), K = 12 a part.
        foreach (var k in new[] { 20, 12 })
        {
            using var crd = new ContrastiveRepresentationDistillation(new() { FeatDim = 6, NceK = k }, 4, 5, Labels);
            var labels = new long[] { 0, 1, 2, 0, 1, 2, 2 };
            var values = crd.SampleNegatives(Tensor.From(labels)).ToArray<long>();
            for (var b = 0; b < labels.Length; b++)
            {
                var row = values.Skip(b * k).Take(k).Select(i => (int)i).ToArray();
                Assert.DoesNotContain(row, i => Labels[i] == labels[b]);
                Assert.Equal(k, row.Distinct().Count());
            }
        }
    }

    [Fact]
    public void SampledNegatives_DrawWithReplacement_OnlyForClassesWhosePoolIsSmallerThanK()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(5);

        // Class 1 has 30 of the 40 samples: its pool (10) is smaller than K = 16, the other classes' (35) is not.
        var labels = Enumerable.Range(0, 40).Select(i => i < 5 ? 0 : i < 35 ? 1 : 2).ToArray();
        using var crd = new ContrastiveRepresentationDistillation(new() { FeatDim = 6, NceK = 16 }, 4, 5, labels);
        var batch = new long[] { 0, 1, 2, 1 };
        var values = crd.SampleNegatives(Tensor.From(batch)).ToArray<long>();
        for (var b = 0; b < batch.Length; b++)
        {
            var row = values.Skip(b * 16).Take(16).Select(i => (int)i).ToArray();
            Assert.DoesNotContain(row, i => labels[i] == batch[b]);
            if (batch[b] != 1)
            {
                Assert.Equal(16, row.Distinct().Count());
            }
        }
    }

    [Fact]
    public void Queue_KeepsItsSize_AndWrapsFirstInFirstOut()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(3);
        using var crd = new ContrastiveRepresentationDistillation(new() { FeatDim = 6, QueueSize = 5 }, 4, 5, Labels);
        Assert.Equal([5L, 6], Buffer(crd, "student_memory").Shape);
        crd.ComputeLoss(Inputs(Tensor.Randn([3, 4]), Tensor.Randn([3, 5]), Tensor.From([0L, 1, 2])));
        crd.ComputeLoss(Inputs(Tensor.Randn([3, 4]), Tensor.Randn([3, 5]), Tensor.From([4L, 5, 6])));
        Assert.Equal([5L, 6], Buffer(crd, "student_memory").Shape);
        Assert.Equal([0L, 1, 2, 1, 2], Buffer(crd, "queue_labels").ToArray<long>());
        Assert.Equal(1L, Buffer(crd, "queue_next").Item<long>());
    }

    private static DistillationInputs Inputs(Tensor student, Tensor teacher, Tensor indices)
    {
        var labels = Tensor.From(indices.ToArray<long>().Select(i => (long)Labels[i]).ToArray());
        return new DistillationInputs(Tensor.Randn([student.Size(0), 3]), Tensor.Randn([student.Size(0), 3]), labels, indices,
            new FeatureMaps(new Dictionary<string, Tensor> { ["pooled"] = student }, "student"),
            new FeatureMaps(new Dictionary<string, Tensor> { ["pooled"] = teacher }, "teacher"), 1);
    }

    private static Tensor Buffer(ContrastiveRepresentationDistillation crd, string name) => crd.NamedBuffers().First(b => b.Name == name).Buffer;

    private static Tensor Param(ContrastiveRepresentationDistillation crd, string name) => crd.NamedParameters().First(p => p.Name == name).Parameter;
}
