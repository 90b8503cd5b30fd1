using Distill.Torch.Tests.Golden;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class ReductionGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["reduce.sum_all"] = i => [i["x"].Sum()],
        ["reduce.sum_dims_keepdim"] = i => [i["x"].Sum([0, 2], keepDim: true)],
        ["reduce.mean_dim"] = i => [i["x"].Mean(1)],
        ["reduce.std_unbiased"] = i => [i["x"].Std([1])],
        ["reduce.var_biased"] = i => [i["x"].Var([0], unbiased: false, keepDim: true)],
        ["reduce.std_all"] = i => [i["x"].Std()],
        ["reduce.max_dim"] = i => Pair(i["x"].Max(1)),
        ["reduce.min_dim_keepdim"] = i => Pair(i["x"].Min(0, keepDim: true)),
        ["reduce.max_all"] = i => [i["x"].Max()],
        ["reduce.amax"] = i => [i["x"].Amax([1, 2])],
        ["reduce.argmax_argmin"] = i => [i["x"].ArgMax(), i["x"].ArgMax(1), i["x"].ArgMin(0, keepDim: true)],
        ["reduce.topk"] = i => Pair(i["x"].TopK(2, dim: 1)),
        ["reduce.topk_smallest"] = i => Pair(i["x"].TopK(3, dim: 0, largest: false)),
        ["reduce.sort_descending"] = i => Pair(i["x"].Sort(1, descending: true)),
        ["reduce.cumsum"] = i => [i["x"].CumSum(1)],
        ["reduce.norm_p2_dim"] = i => [i["x"].Norm(2, [1])],
        ["reduce.norm_p1_all"] = i => [i["x"].Norm(1)],
        ["reduce.logsumexp"] = i => [i["x"].LogSumExp(1)],
        ["reduce.prod"] = i => [i["x"].Prod(1)],
        ["reduce.all_any"] = i => [i["buf_b"].All(), i["buf_b"].Any(1)],
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("reduce.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reduction_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);

    private static Tensor[] Pair((Tensor Values, Tensor Indices) r) => [r.Values, r.Indices];
}
