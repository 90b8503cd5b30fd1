using Distill.Methods;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Parity;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// The goldens of eng/golden/official_methods.py, written by following each method's official code (kd, dkd and
/// logit standardisation, sdd, tfd, tfd+, fitnet, at, mgd, ofd, matching; docs/methods/ names the files and
/// commits) on inputs the other goldens do not use: every loss term, the total, and the gradient with respect to
/// every student input and method parameter through the parity harness; and the official matching step's cost
/// and assignment.
/// </summary>
public sealed class OfficialMethodGoldenTests : IDisposable
{
    private static readonly JsonFixture Fixture = new("official_methods.json");
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-official-").FullName;

    public static TheoryData<string> Methods => Fixture.Names(Fixture.Root.GetProperty("methods"));

    public static TheoryData<string> MatchingSteps => Fixture.Names(Fixture.Root.GetProperty("matching_steps"));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Methods))]
    public void Check_MatchesTheOfficialCode(string name)
    {
        var golden = Fixture.Root.GetProperty("methods").GetProperty(name);
        var inputs = FeatureMethodGoldenTests.WriteInputs(golden, Path.Combine(_directory, name + ".inputs.safetensors"));
        var output = Path.Combine(_directory, name + ".out.safetensors");
        var method = MethodCheck.Options(golden.GetProperty("method").GetString()!, golden.GetProperty("options").EnumerateArray().Select(o => o.GetString()!));
        MethodCheck.Run(method, inputs, output, golden.GetProperty("epoch").GetInt32());
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(output);
        var expected = golden.GetProperty("expected").EnumerateObject().ToDictionary(p => p.Name, p => GoldenTensor.Parse(p.Value));
        Assert.Equal(expected.Keys.Order(), file.Tensors.Keys.Where(k => !k.StartsWith("random.", StringComparison.Ordinal)).Order());
        foreach (var (key, value) in expected)
        {
            // float32 arithmetic against a float64 reference, terms of at most a few hundred elements: 2e-5 of the
            // largest magnitude, as FeatureMethodGoldenTests.
            value.AssertMatchesToScale(file.Tensors[key], $"{name} {key}", rtol: 2e-5);
        }
    }

    [Theory]
    [InlineData(new[] { 2, 4 })]
    [InlineData(new[] { 4 })]
    public void SddWithoutTheGlobalScale_IsRejected(int[] scales)
    {
        // The official weights judge every region against rows 0..B-1, the global (scale 1) prediction; without
        // scale 1 the first local region took that role and the weights meant nothing.
        var error = Assert.Throws<ArgumentException>(() => new ScaleDecoupledDistillation("stage3", scales));
        Assert.Contains("must include 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MatchingSteps))]
    public void MatchingStep_GivesTheOfficialAssignment(string name)
    {
        var golden = Fixture.Root.GetProperty("matching_steps").GetProperty(name);
        foreach (var (reducer, key) in new[] { ("amp", "groups"), ("sm", "sparse") })
        {
            using var scope = DisposeScope.Enter();
            var batches = golden.GetProperty("batches").EnumerateArray()
                .Select(b => (Student: GoldenTensor.Parse(b.GetProperty("student")).ToTensor(), Teacher: GoldenTensor.Parse(b.GetProperty("teacher")).ToTensor())).ToArray();
            var (cs, ct) = (batches[0].Student.Size(1), batches[0].Teacher.Size(1));
            using var method = new MatchingGuidedDistillation(["stage1"], [cs], [ct], [new double[ct]], [1], reducer);
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
}
