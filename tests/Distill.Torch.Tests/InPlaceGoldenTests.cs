using Distill.Torch.Tests.Golden;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class InPlaceGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["inplace.add_alpha"] = i => [i["p"].AddInPlace(i["g"], alpha: -0.1)],
        ["inplace.mul_scalar"] = i => [i["p"].MulInPlace(0.9)],
        ["inplace.addcmul"] = i => [i["p"].AddCMulInPlace(i["a"], i["b"], 0.01)],
        ["inplace.addcdiv"] = i => [i["p"].AddCDivInPlace(i["a"], i["b"].Abs() + 1, -0.5)],
        ["inplace.lerp"] = i => [i["p"].LerpInPlace(i["e"], 0.1)],
        ["inplace.copy_zero_fill"] = i =>
        {
            var p = i["p"];
            return [Tensor.Stack([p.CopyFrom(i["s"]).Clone(), p.ZeroInPlace().Clone(), p.FillInPlace(3).Clone()])];
        },
        ["inplace.clamp_sqrt"] = i => [i["p"].ClampInPlace(min: 0.2).SqrtInPlace()],
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("inplace.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void InPlaceOp_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);

    [Fact]
    public void InPlaceOp_ReturnsSameTensor()
    {
        using var scope = DisposeScope.Enter();
        var p = Tensor.Ones([3]);
        Assert.Same(p, p.AddInPlace(p, 2));
        Assert.Equal([3f, 3f, 3f], p.ToArray<float>());
    }
}
