using Distill.Torch.Tests.Golden;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class MathGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["math.add_broadcast"] = i => [i["a"] + i["b"]],
        ["math.add_alpha"] = i => [i["a"].Add(i["b"], alpha: -0.5)],
        ["math.sub_mul_div"] = i => [(i["a"] - i["b"]) * i["a"] / (i["b"].Abs() + 1)],
        ["math.scalar_ops"] = i => [((i["a"] + 2) * 3) - 1.5],
        ["math.reverse_scalar_ops"] = i => [(2 - i["a"]) + (1.0 / (i["a"].Abs() + 1))],
        ["math.pow_scalar"] = i => [i["a"].Abs().Pow(2.5)],
        ["math.pow_tensor"] = i => [i["a"].Abs().Pow(i["b"])],
        ["math.rpow"] = i => [Tensor.Pow(2.0, i["a"])],
        ["math.unary_chain"] = i =>
        {
            var a = i["a"];
            var small = a.Abs() + 0.1;
            return [a.Neg().Exp() + a.Abs().Log1p() + small.Log() + small.Sqrt() + small.Rsqrt() + a.Sigmoid() + a.Tanh()
                + a.Sign() + a.Sin() + a.Cos() + a.Erf() + a.Square() + a.Expm1() + small.Log2() + (a.Abs() + 1).Reciprocal()];
        },
        ["math.rounding"] = i => [Tensor.Stack([(i["a"] * 3).Floor(), (i["a"] * 3).Ceil(), (i["a"] * 3).Round()])],
        ["math.minimum_maximum"] = i => [i["a"].Minimum(i["b"]) + (2 * i["a"].Maximum(i["b"]))],
        ["math.clamp"] = i => [i["a"].Clamp(-0.5, 0.7)],
        ["math.clamp_min"] = i => [i["a"].ClampMin(0.1)],
        ["math.matmul_2d"] = i => [i["a"].Matmul(i["b"])],
        ["math.matmul_batched_broadcast"] = i => [i["a"].Matmul(i["b"])],
        ["math.matmul_vector"] = i => [i["a"].Matmul(i["b"])],
        ["math.bmm"] = i => [i["a"].Bmm(i["b"])],
        ["math.einsum"] = i => [Tensor.Einsum("bij,bjk->bik", i["a"], i["b"])],
        ["math.comparisons"] = i => [i["a"] < i["b"], i["a"] <= i["b"], i["a"] > i["b"], i["a"] >= i["b"], i["a"].Eq(i["b"]), i["a"].Ne(i["b"])],
        ["math.logical"] = i => [i["buf_a"] & i["buf_b"], i["buf_a"] | i["buf_b"], !i["buf_a"]],
        ["math.int_promotion"] = i => [i["buf_a"] + 2, i["buf_a"] * 0.5, i["buf_a"].FloorDivide(2), i["buf_a"] % 3, i["buf_a"] / 2],
        ["math.nan_checks"] = i => [i["buf_a"].IsNan(), i["buf_a"].IsFinite()],
        ["math.atan2_remainder"] = i => [i["a"].Atan2(i["b"]), i["a"].Remainder(i["b"].Abs() + 0.5)],
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("math.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MathOp_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);
}
