using Xunit;

namespace Distill.Torch.Tests;

/// <summary>OMP_NUM_THREADS reaches libtorch: `OMP_NUM_THREADS=1 ./test` runs the suite on one intra-op thread.</summary>
public sealed class ThreadCountTests
{
    [Fact]
    public void LibTorchIntraOpThreads_EqualOmpNumThreads_WhenItIsSet()
    {
        var variable = Environment.GetEnvironmentVariable("OMP_NUM_THREADS");
        if (string.IsNullOrEmpty(variable))
        {
            Assert.True(TorchRuntime.Threads >= 1);
            return;
        }

        Assert.Equal(int.Parse(variable, System.Globalization.CultureInfo.InvariantCulture), TorchRuntime.Threads);
    }
}
