using System.Text.Json;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>tests/Fixtures/nn_modules.json, made by eng/golden/nn_modules.py.</summary>
internal static class NnFixture
{
    private static readonly JsonFixture Fixture = new("nn_modules.json");

    public static JsonElement Root => Fixture.Root;

    public static string FixturePath(string name) => FixtureFiles.PathOf(name);

    public static TheoryData<string> Names(string section) => Fixture.Names(Root.GetProperty(section));

    public static Dictionary<string, GoldenTensor> TensorMap(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => GoldenTensor.Parse(p.Value), StringComparer.Ordinal);

    /// <summary>Checks a state dict against recorded values: same keys in the same order, same values (to the dtype's one-op tolerance unless given).</summary>
    public static void AssertStateMatches(IReadOnlyDictionary<string, GoldenTensor> expected, OrderedDictionary<string, Tensor> actual, string what, GoldenTolerance? tolerance = null)
    {
        Assert.Equal(expected.Keys.ToArray(), actual.Keys.ToArray());
        foreach (var (key, value) in expected)
        {
            value.AssertMatches(actual[key], $"{what} {key}", tolerance ?? GoldenTolerance.For(value.DType));
        }
    }
}
