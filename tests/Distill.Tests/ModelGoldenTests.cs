using System.Text.Json;
using Distill.Models;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using Xunit.Sdk;

namespace Distill.Tests;

/// <summary>
/// Each model against our PyTorch reference (eng/golden/models.py): the same state_dict keys and shapes in
/// the same order (a strict load), then with the same deterministic weights and input, the same logits
/// and the same value of every feature tap.
/// </summary>
public sealed class ModelGoldenTests
{
    private static readonly JsonFixture Golden = new("models.json");

    public static TheoryData<string> Names => Golden.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void Model_KeysLogitsAndTaps_MatchTheReferenceImplementation(string name)
    {
        var golden = Golden.Root.GetProperty(name);
        using var scope = DisposeScope.Enter();
        var registryName = name.Split('@')[0];
        var options = name.EndsWith("@fashion", StringComparison.Ordinal) ? new ModelOptions(10, 1)
            : registryName is "resnet18" or "resnet50" or "mobilenetv1" or "mobilenetv2" ? new ModelOptions(1000) : new ModelOptions();
        using var model = ModelRegistry.Create(registryName, options);

        var keys = golden.GetProperty("keys").EnumerateArray().Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(v => v.GetInt64()).ToArray())).ToArray();
        var own = model.StateDict();
        Assert.Equal(keys.Select(k => k.Item1), own.Keys);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var k = 0; k < keys.Length; k++)
        {
            var (key, shape) = keys[k];
            Assert.Equal(shape, own[key].Shape);
            state[key] = key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? own[key].Clone() : Deterministic(key, shape, k);
        }

        Assert.True(model.LoadStateDict(state, strict: true).IsExact);
        model.Eval();
        var inputShape = golden.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var input = (Tensor.Linspace(0, 1, inputShape.Aggregate(1L, (a, b) => a * b)) * 77).Sin().Reshape(inputShape);
        using var taps = model.TapFeatures(model.Taps.Select(t => t.Name));
        using var noGrad = Autograd.NoGrad();
        var logits = model.Forward(input);
        GoldenTensor.Parse(golden.GetProperty("logits")).AssertMatches(logits, $"{name} logits");
        var expectedTaps = golden.GetProperty("taps");
        Assert.Equal(expectedTaps.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), model.Taps.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var tap in expectedTaps.EnumerateObject())
        {
            AssertSummary(tap.Value, taps[tap.Name], $"{name} tap {tap.Name}");
        }
    }

    /// <summary>The rule of eng/golden/models.py's deterministic_, with the same libtorch ops.</summary>
    internal static Tensor Deterministic(string key, long[] shape, int index)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var s = ((Tensor.Arange(0, n, 1, DType.Float32) * 12.9898) + index).Sin().Reshape(shape);
        if (key.EndsWith("running_var", StringComparison.Ordinal))
        {
            return (s.Abs() * 0.5) + 1;
        }

        if (key.EndsWith("running_mean", StringComparison.Ordinal) || key.EndsWith("bias", StringComparison.Ordinal))
        {
            return s * 0.1;
        }

        return shape.Length == 1 ? (s * 0.1) + 1 : s / Math.Sqrt((double)n / shape[0]);
    }

    private static void AssertSummary(JsonElement expected, Tensor actual, string what)
    {
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()), actual.Shape);
        var values = actual.To(DType.Float64).Reshape(-1).ToArray<double>();
        Close(expected.GetProperty("sum").GetDouble(), values.Sum(), 1e-4, $"{what} sum", values.Sum(Math.Abs));
        Close(expected.GetProperty("sum_squares").GetDouble(), values.Sum(v => v * v), 1e-5, $"{what} sum of squares", 0);
        var head = expected.GetProperty("head").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (var i = 0; i < head.Length; i++)
        {
            Close(head[i], values[i], 1e-5, $"{what} element {i}", 0);
        }
    }

    // Sums of many terms: relative to the sum of magnitudes, since the signed sum can be near zero.
    private static void Close(double expected, double actual, double rtol, string what, double magnitude)
    {
        var scale = Math.Max(Math.Abs(expected), magnitude);
        if (Math.Abs(actual - expected) > 1e-6 + (rtol * scale))
        {
            throw new XunitException($"{what}: {actual:R}, reference {expected:R}");
        }
    }
}
