using System.Text.Json;
using Distill.Methods;
using Distill.Models;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>Matching Guided Distillation's matching step and reducers: eng/golden/matching_step.py (scipy) and the spec's AMP example.</summary>
public sealed class MatchingStepTests
{
    private static readonly JsonFixture Fixture = new("matching_step.json");

    public static TheoryData<string> Cases => Fixture.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public void CalibrationPass_GivesScipysAssignment_DenseAndSparse(string name)
    {
        AssertMatchingStep(Fixture.Root.GetProperty(name), name);
    }

    /// <summary>
    /// Runs Matching Guided Distillation's calibration pass over a golden's batches with the amp and sm reducers and
    /// checks the accumulated cost and both assignments; shared with <see cref="OfficialMethodGoldenTests"/>.
    /// </summary>
    /// <param name="golden">The case: batches (student, teacher), cost, groups and sparse.</param>
    /// <param name="name">The case's name, for messages.</param>
    internal static void AssertMatchingStep(JsonElement golden, string name)
    {
        foreach (var (reducer, key) in new[] { ("amp", "groups"), ("sm", "sparse") })
        {
            using var scope = DisposeScope.Enter();
            var batches = golden.GetProperty("batches").EnumerateArray()
                .Select(b => (Student: GoldenTensor.Parse(b.GetProperty("student")).ToTensor(), Teacher: GoldenTensor.Parse(b.GetProperty("teacher")).ToTensor())).ToArray();
            var (cs, ct) = (batches[0].Student.Size(1), batches[0].Teacher.Size(1));
            using var method = new MatchingGuidedDistillation(new() { Reducer = reducer }, ["stage1"], [cs], [ct], [new double[ct]], [1]);
            method.BeginCalibration();
            var sum = Tensor.Zeros([cs, ct], DType.Float64);
            foreach (var (student, teacher) in batches)
            {
                sum = sum + MatchingGuidedDistillation.BatchCost(student, teacher).To(DType.Float64);
                method.Calibrate(new DistillationInputs(Tensor.Zeros([student.Size(0), 2]), null, Tensor.Zeros([student.Size(0)], DType.Int64), Tensor.Zeros([1]),
                    new FeatureMaps(new Dictionary<string, Tensor> { ["stage1.preact"] = student }, "student"),
                    new FeatureMaps(new Dictionary<string, Tensor> { ["stage1.preact"] = teacher }, "teacher"), 1));
            }

            method.EndCalibration();
            GoldenTensor.Parse(golden.GetProperty("cost")).AssertMatchesToScale(sum / (double)batches.Sum(b => b.Student.Size(0)), $"{name} cost");
            var expected = golden.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
            var actual = method.Assignment(0);
            Assert.Equal(expected.Length, actual.GetLength(0));
            // The G stacked copies of a student channel are interchangeable: the matched set is unique, its order is not.
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i].Order(), Enumerable.Range(0, actual.GetLength(1)).Select(k => actual[i, k]).Order());
            }
        }
    }

    [Fact]
    public void AmpReducer_GivesTheSpecsExample()
    {
        // Rows -> columns [2, 0, 1, 3] with C_s = 2: channel 0 <- {t2, t1}, channel 1 <- {t0, t3}.
        using var scope = DisposeScope.Enter();
        var groups = MatchingGuidedDistillation.Match([0, 0, 0, 0, 0, 0, 0, 0], 2, 4, sparse: false);
        Assert.Equal(2, groups.GetLength(1));
        var assignment = Tensor.From([2L, 1, 0, 3], 2, 2);
        var teacher = Tensor.From([0.5, -2.0, 1.0, 0.3], 1, 4, 1, 1);
        var (reduced, margin) = MatchingGuidedDistillation.Reduce(teacher, Tensor.From([-1.0, -2, -3, -4]), assignment, "amp");
        Assert.Equal([-2.0, 0.5], reduced.ToArray<double>());
        Assert.Equal([-2.5, -2.5], margin.ToArray<double>());
        var (sp, spMargin) = MatchingGuidedDistillation.Reduce(teacher, Tensor.From([-1.0, -2, -3, -4]), assignment, "sp");
        Assert.Equal([1.0, 0.5], sp.ToArray<double>());
        Assert.Equal([-2.0, -1.0], spMargin.ToArray<double>());
    }

    [Fact]
    public void MatchingSteps_RunBeforeEpochOne_ThenEveryUpdateFrequency()
    {
        using var method = new MatchingGuidedDistillation(new() { UpdateFreq = 2 }, ["stage1"], [2], [4], [new double[4]], [1]);
        Assert.Equal([true, false, true, false, true], Enumerable.Range(1, 5).Select(method.NeedsCalibration).ToArray());
        using var never = new MatchingGuidedDistillation(new() { MatchImages = 0 }, ["stage1"], [2], [4], [new double[4]], [1]);
        Assert.False(never.NeedsCalibration(1));
    }

    [Fact]
    public void FewerTeacherThanStudentChannels_IsRejectedWithBothCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => new MatchingGuidedDistillation(new(), ["stage2"], [8], [4], [new double[4]], [1]));
        Assert.Contains("stage2 has 4 teacher channels for 8 student channels", e.Message, StringComparison.Ordinal);
    }
}
