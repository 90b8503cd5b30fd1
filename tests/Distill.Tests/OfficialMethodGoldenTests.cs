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
        var error = Assert.Throws<ArgumentException>(() => new ScaleDecoupledDistillation(new() { Tap = "stage3", Scales = scales }));
        Assert.Contains("must include 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MatchingSteps))]
    public void MatchingStep_GivesTheOfficialAssignment(string name)
    {
        MatchingStepTests.AssertMatchingStep(Fixture.Root.GetProperty("matching_steps").GetProperty(name), name);
    }
}
