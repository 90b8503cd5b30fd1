using Distill.Torch.Tests.Golden;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class ShapeGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["shape.view"] = i => [i["x"].View(4, 3)],
        ["shape.reshape_noncontiguous"] = i => [i["x"].T().Reshape(-1)],
        ["shape.permute"] = i => [i["x"].Permute(2, 0, 1)],
        ["shape.transpose"] = i => [i["x"].Transpose(0, 2)],
        ["shape.flatten"] = i => [i["x"].Flatten(1)],
        ["shape.squeeze_unsqueeze"] = i => [i["x"].Unsqueeze(1).Unsqueeze(-1).Squeeze(1)],
        ["shape.squeeze_all"] = i => [i["x"].Squeeze()],
        ["shape.expand"] = i => [i["x"].Expand(3, 4, 5)],
        ["shape.repeat"] = i => [i["x"].Repeat(2, 3)],
        ["shape.narrow"] = i => [i["x"].Narrow(1, 1, 2)],
        ["shape.slice_step"] = i => [i["x"].Slice(1, 0, 4, 2)],
        ["shape.select"] = i => [i["x"].Select(1, 2)],
        ["shape.index_select"] = i => [i["x"].IndexSelect(0, i["buf_i"])],
        ["shape.gather"] = i => [i["x"].Gather(1, i["buf_i"])],
        ["shape.scatter"] = i => [i["x"].Scatter(1, i["buf_i"], i["s"])],
        ["shape.scatter_add"] = i => [i["x"].ScatterAdd(0, i["buf_i"], i["s"])],
        ["shape.scatter_value"] = i => [i["x"].Scatter(1, i["buf_i"], 0.5)],
        ["shape.index_copy_"] = i => [i["x"].Clone().IndexCopyInPlace(0, i["buf_i"], i["s"])],
        ["shape.masked_fill"] = i => [i["x"].MaskedFill(i["buf_m"], -1.5)],
        ["shape.masked_select"] = i => [i["x"].MaskedSelect(i["buf_m"])],
        ["shape.where"] = i => [Tensor.Where(i["buf_c"], i["a"], i["b"])],
        ["shape.cat"] = i => [Tensor.Cat([i["a"], i["b"]], 1)],
        ["shape.stack"] = i => [Tensor.Stack([i["a"], i["b"]], 1)],
        ["shape.chunk"] = i => i["x"].Chunk(3, 1),
        ["shape.split"] = i => i["x"].Split(2, 0),
        ["shape.flip"] = i => [i["x"].Flip(0, 2)],
        ["shape.pad_constant"] = i => [i["x"].Pad([1, 2, 0, 1], PaddingMode.Constant, 0.5)],
        ["shape.pad_reflect"] = i => [i["x"].Pad([2, 1, 1, 2], PaddingMode.Reflect)],
        ["shape.pad_replicate"] = i => [i["x"].Pad([1, 1, 2, 0], PaddingMode.Replicate)],
        ["shape.contiguous_clone"] = i => [i["x"].T().Contiguous().Clone() * 2],
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("shape.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void ShapeOp_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);

    [Fact]
    public void View_SharesStorage_ContiguousCopyDoesNot()
    {
        using var scope = DisposeScope.Enter();
        var x = Tensor.Zeros([2, 3]);
        var v = x.View(6);
        v.FillInPlace(2);
        Assert.All(x.ToArray<float>(), e => Assert.Equal(2f, e));
        Assert.Equal([1L, 3L], x.T().Strides);
        Assert.Equal([2L, 1L], x.T().Contiguous().Strides);
    }

    /// <summary>
    /// Channels-last keeps shape and values and takes PyTorch's NHWC strides (torch.channels_last on [N, C, H, W]:
    /// C*H*W, 1, W*C, C); a tensor already in it comes back as itself, sharing storage; a convolution of it gives the NCHW
    /// result to the float32 rounding of one 3x3x3 reduction.
    /// </summary>
    [Fact]
    public void ContiguousChannelsLast_HasNhwcStrides_SameValues_AndConvolvesAlike()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(0);
        var x = Tensor.Randn([2, 3, 4, 5]);
        var last = x.Contiguous(MemoryFormat.ChannelsLast);
        Assert.Equal(x.Shape, last.Shape);
        Assert.Equal([60L, 1L, 15L, 3L], last.Strides);
        Assert.Equal(x.ToArray<float>(), last.ToArray<float>());
        var again = last.Contiguous(MemoryFormat.ChannelsLast);
        again.FillInPlace(1);
        Assert.All(last.ToArray<float>(), e => Assert.Equal(1f, e));
        Assert.Equal([60L, 20L, 5L, 1L], last.Contiguous(MemoryFormat.Contiguous).Strides);

        var w = Tensor.Randn([4, 3, 3, 3]);
        var y = Tensor.Randn([2, 3, 8, 8]);
        var nchw = Functional.Conv2d(y, w, null, (1, 1), (1, 1), (1, 1), 1).ToArray<float>();
        var nhwc = Functional.Conv2d(y.Contiguous(MemoryFormat.ChannelsLast), w, null, (1, 1), (1, 1), (1, 1), 1).ToArray<float>();
        var scale = nchw.Max(Math.Abs);
        Assert.All(nchw.Zip(nhwc), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5 * scale, $"{p.First} vs {p.Second}"));
    }
}
