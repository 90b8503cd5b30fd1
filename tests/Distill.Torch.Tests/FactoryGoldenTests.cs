using Distill.Torch.Tests.Golden;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class FactoryGoldenTests
{
    internal static readonly Dictionary<string, GoldenOp> Ops = new()
    {
        ["factories.arange_int"] = _ => [Tensor.Arange(0, 10, 3)],
        ["factories.arange_float"] = _ => [Tensor.Arange(0.5, 3.0, 0.25)],
        ["factories.linspace"] = _ => [Tensor.Linspace(-1, 1, 7)],
        ["factories.eye"] = _ => [Tensor.Eye(3, 4)],
        ["factories.full"] = _ => [Tensor.Full([2, 3], 2.5)],
        ["factories.ones_int"] = _ => [Tensor.Ones([2, 2], DType.Int64)],
        ["factories.rand_seeded"] = _ => Seeded(7, () => Tensor.Rand([3, 4])),
        ["factories.randn_seeded"] = _ => Seeded(7, () => Tensor.Randn([3, 4])),
        ["factories.randint_seeded"] = _ => Seeded(11, () => Tensor.RandInt(0, 10, [6])),
        ["factories.randperm_seeded"] = _ => Seeded(13, () => Tensor.RandPerm(8)),
        ["factories.generator_randn"] = _ =>
        {
            using var generator = new Generator(123);
            return [Tensor.Randn([5], generator: generator)];
        },
        ["factories.normal_fill"] = _ => Seeded(3, () => Tensor.Empty([5]).NormalInPlace(1.0, 2.0)),
        ["factories.uniform_fill"] = _ => Seeded(3, () => Tensor.Empty([5]).UniformInPlace(-2.0, 3.0)),
    };

    public static TheoryData<string> Cases => GoldenFixture.CaseNames("factories.");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Factory_MatchesPyTorch(string name) => GoldenRunner.Run(name, Ops);

    [Fact]
    public void Generator_SameSeed_SameStream_AndStateRoundTrips()
    {
        using var scope = DisposeScope.Enter();
        using var a = new Generator(99);
        using var b = new Generator(99);
        var state = a.GetState();
        var first = Tensor.Rand([4], generator: a).ToArray<float>();
        Assert.Equal(first, Tensor.Rand([4], generator: b).ToArray<float>());
        a.SetState(state);
        Assert.Equal(first, Tensor.Rand([4], generator: a).ToArray<float>());
        Assert.NotEqual(first, Tensor.Rand([4], generator: a).ToArray<float>());
    }

    private static Tensor[] Seeded(ulong seed, Func<Tensor> make)
    {
        TorchRuntime.ManualSeed(seed);
        return [make()];
    }
}
