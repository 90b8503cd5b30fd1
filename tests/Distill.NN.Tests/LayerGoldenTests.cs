using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>Each layer, built right after the same seed as in PyTorch: same initial weights, outputs, gradients and buffers.</summary>
public sealed class LayerGoldenTests
{
    private static readonly Dictionary<string, Func<Module<Tensor, Tensor>>> Layers = new()
    {
        ["conv2d"] = () => new Conv2d(3, 8, 3, stride: 2, padding: 1),
        ["conv2d_groups_nobias"] = () => new Conv2d(4, 8, 3, padding: 1, groups: 2, bias: false),
        ["conv_transpose2d"] = () => new ConvTranspose2d(4, 2, 3, stride: 2, padding: 1, outputPadding: 1),
        ["linear"] = () => new Linear(6, 5),
        ["batchnorm2d_train"] = () => new BatchNorm2d(3),
        ["batchnorm2d_cumulative"] = () => new BatchNorm2d(3, momentum: null),
        ["batchnorm1d_eval"] = () => new BatchNorm1d(5),
        ["layernorm"] = () => new LayerNorm(6),
        ["groupnorm"] = () => new GroupNorm(2, 4),
        ["embedding_padding"] = () => new Embedding(7, 4, paddingIndex: 2),
        ["mha_batch_first"] = () => new MultiheadAttention(8, 2, batchFirst: true),
        ["transformer_prenorm_gelu"] = () => new TransformerEncoderLayer(8, 2, 16, dropout: 0, gelu: true, batchFirst: true, normFirst: true),
        ["transformer_postnorm_relu"] = () => new TransformerEncoderLayer(8, 2, 16, dropout: 0),
        ["sequential_cnn"] = () => new Sequential(
            new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
            new Conv2d(4, 6, 3, bias: false), new BatchNorm2d(6), new ReLU6(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(6, 3)),
        ["activations"] = () => new Sequential(new GELU(), new SiLU(), new Hardswish(), new LeakyReLU(0.1), new Hardsigmoid(), new Tanh(), new Sigmoid(), new Identity()),
    };

    public static TheoryData<string> Names => NnFixture.Names("layers");

    [Theory]
    [MemberData(nameof(Names))]
    public void Layer_InitForwardBackwardAndBuffers_MatchPyTorch(string name)
    {
        var golden = NnFixture.Root.GetProperty("layers").GetProperty(name);
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(golden.GetProperty("seed").GetUInt64());
        using var layer = Layers[name]();
        if (name.EndsWith("_eval", StringComparison.Ordinal))
        {
            layer.Eval();
        }

        var initial = NnFixture.TensorMap(golden.GetProperty("initial_state"));
        NnFixture.AssertStateMatches(initial, layer.StateDict(), $"{name} initial");

        var recordedInput = GoldenTensor.Parse(golden.GetProperty("input"));
        var tolerance = ForwardAndBackward(name, initial, recordedInput);
        var input = recordedInput.ToTensor();
        if (input.DType.IsFloatingPoint())
        {
            input.RequiresGrad = true;
        }

        var output = layer.Forward(input);
        GoldenTensor.Parse(golden.GetProperty("output")).AssertMatches(output, $"{name} output", tolerance);
        output.Backward(GoldenTensor.Parse(golden.GetProperty("grad_output")).ToTensor());
        if (golden.GetProperty("input_grad").ValueKind != System.Text.Json.JsonValueKind.Null)
        {
            GoldenTensor.Parse(golden.GetProperty("input_grad")).AssertMatches(input.Grad!, $"{name} input grad", tolerance);
        }

        var parameters = layer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        var expectedGrads = NnFixture.TensorMap(golden.GetProperty("param_grads"));
        Assert.Equal(expectedGrads.Keys.Order(StringComparer.Ordinal), parameters.Where(p => p.Value.Grad is not null).Select(p => p.Key).Order(StringComparer.Ordinal));
        foreach (var (key, expected) in expectedGrads)
        {
            expected.AssertMatches(parameters[key].Grad!, $"{name} grad of {key}", tolerance);
        }

        NnFixture.AssertStateMatches(NnFixture.TensorMap(golden.GetProperty("final_state")), layer.StateDict(), $"{name} final", tolerance);
    }

    /// <summary>
    /// The float32 reductions a layer's forward and backward chain: one per weight (an attention's in_proj_weight
    /// three: projection, scores, weighted sum; at least one for a weightless layer), forward and backward
    /// each. No reduction sums more terms than the layer's largest tensor has elements (the forward over a
    /// weight's fan-in, the input gradient over its fan-out, a weight gradient or a batch statistic over the
    /// positions of the input), so that count bounds every length. See <see cref="GoldenTolerance"/>.
    /// </summary>
    private static GoldenTolerance ForwardAndBackward(string name, IReadOnlyDictionary<string, GoldenTensor> state, GoldenTensor input)
    {
        var longest = state.Values.Select(t => (long)t.Values.Length).Append(input.Values.Length).Max();
        var layers = Math.Max(1, state.Keys.Sum(k => k.EndsWith("in_proj_weight", StringComparison.Ordinal) ? 3 : k.EndsWith("weight", StringComparison.Ordinal) ? 1 : 0));
        return GoldenTolerance.Float32Chain(Enumerable.Repeat(longest, 2 * layers), $"{name} forward and backward");
    }

    [Fact]
    public void EveryRecordedLayer_HasADistillFactory()
    {
        var recorded = NnFixture.Root.GetProperty("layers").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(recorded.Order(StringComparer.Ordinal), Layers.Keys.Order(StringComparer.Ordinal));
    }
}
