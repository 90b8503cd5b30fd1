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
}
