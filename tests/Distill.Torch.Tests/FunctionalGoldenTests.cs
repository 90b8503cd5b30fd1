using Distill.Torch.Tests.Golden;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Torch.Tests;

public sealed class FunctionalGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["nn.conv2d_stride_pad_bias"] = i => [F.Conv2d(i["x"], i["w"], i["b"], stride: (2, 2), padding: (1, 1))],
        ["nn.conv2d_groups_dilation"] = i => [F.Conv2d(i["x"], i["w"], null, padding: (2, 2), dilation: (2, 2), groups: 2)],
        ["nn.conv_transpose2d"] = i => [F.ConvTranspose2d(i["x"], i["w"], i["b"], stride: (2, 2), padding: (1, 1), outputPadding: (1, 1))],
        ["nn.linear"] = i => [F.Linear(i["x"], i["w"], i["b"])],
        ["nn.batch_norm_train"] = i =>
            [F.BatchNorm(i["x"], i["buf_m"], i["buf_v"], i["w"], i["b"], training: true, momentum: 0.1, eps: 1e-5), i["buf_m"], i["buf_v"]],
        ["nn.batch_norm_eval"] = i => [F.BatchNorm(i["x"], i["buf_m"], i["buf_v"], i["w"], i["b"], training: false)],
        ["nn.layer_norm"] = i => [F.LayerNorm(i["x"], [4], i["w"], i["b"])],
        ["nn.group_norm"] = i => [F.GroupNorm(i["x"], 2, i["w"], i["b"])],
        ["nn.relu"] = i => [F.Relu(i["x"])],
        ["nn.relu6"] = i => [F.Relu6(i["x"])],
        ["nn.leaky_relu"] = i => [F.LeakyRelu(i["x"], 0.2)],
        ["nn.gelu"] = i => [F.Gelu(i["x"])],
        ["nn.gelu_tanh"] = i => [F.Gelu(i["x"], tanhApproximation: true)],
        ["nn.silu"] = i => [F.Silu(i["x"])],
        ["nn.hardswish"] = i => [F.Hardswish(i["x"])],
        ["nn.hardsigmoid"] = i => [F.Hardsigmoid(i["x"])],
        ["nn.softmax"] = i => [F.Softmax(i["x"], 1)],
        ["nn.log_softmax"] = i => [F.LogSoftmax(i["x"], 0)],
        ["nn.max_pool2d_ceil"] = i => [F.MaxPool2d(i["x"], (3, 3), (2, 2), (1, 1), ceilMode: true)],
        ["nn.avg_pool2d_no_pad_count"] = i => [F.AvgPool2d(i["x"], (3, 3), (2, 2), (1, 1), countIncludePad: false)],
        ["nn.adaptive_avg_pool2d"] = i => [F.AdaptiveAvgPool2d(i["x"], (3, 2))],
        ["nn.adaptive_max_pool2d"] = i => [F.AdaptiveMaxPool2d(i["x"], (2, 3))],
        ["nn.interpolate_nearest_size"] = i => [F.Interpolate(i["x"], 5L, 9L)],
        ["nn.interpolate_nearest_scale"] = i => [F.Interpolate(i["x"], 2.0, 2.0)],
        ["nn.interpolate_bilinear"] = i => [F.Interpolate(i["x"], 6L, 7L, InterpolationMode.Bilinear, alignCorners: false)],
        ["nn.interpolate_bilinear_align"] = i => [F.Interpolate(i["x"], 6L, 7L, InterpolationMode.Bilinear, alignCorners: true)],
        ["nn.one_hot"] = i => [F.OneHot(i["buf_i"], 5)],
        ["nn.embedding"] = i => [F.Embedding(i["buf_i"], i["w"], paddingIndex: 1)],
        ["nn.cosine_similarity"] = i => [F.CosineSimilarity(i["a"], i["b"], dim: 1)],
        ["nn.normalize"] = i => [F.Normalize(i["x"], 2, 1)],
        ["nn.attention_masked"] = i => [F.ScaledDotProductAttention(i["q"], i["k"], i["v"], i["buf_mask"])],
        ["nn.dropout_seeded"] = i =>
        {
            TorchRuntime.ManualSeed(5);
            return [F.Dropout(i["x"], 0.3, training: true)];
        },
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("nn.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void FunctionalOp_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);

    [Fact]
    public void Dropout_InEval_IsIdentity()
    {
        using var scope = DisposeScope.Enter();
        var x = Tensor.Randn([10]);
        Assert.Equal(x.ToArray<float>(), F.Dropout(x, 0.5, training: false).ToArray<float>());
    }
}
