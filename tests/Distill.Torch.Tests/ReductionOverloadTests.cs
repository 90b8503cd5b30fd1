using Distill.Torch;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class ReductionOverloadTests
{
    [Fact]
    public void SumAndMeanOfLiteralZero_ReduceDimensionZero_NotTheWholeTensor()
    {
        using var scope = DisposeScope.Enter();
        var t = Tensor.From([1.0, 2, 3, 4], 2, 2);
        Assert.Equal([4.0, 6], t.Sum(0).ToArray<double>());
        Assert.Equal([2.0, 3], t.Mean(0).ToArray<double>());
        Assert.Equal(10.0, t.Sum().Item<double>());
    }
}
