using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Torch.Tests;

public sealed class ErrorTranslationTests
{
    [Fact]
    public void BadBroadcast_ThrowsTorchException_NamingOpAndBothShapes_AndProcessLivesOn()
    {
        using var scope = DisposeScope.Enter();
        var a = Tensor.Zeros([2, 3]);
        var b = Tensor.Zeros([4, 5]);
        var e = Assert.Throws<TorchException>(() => a + b);
        Assert.StartsWith("add (shapes [2, 3] and [4, 5]):", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception raised from", e.Message, StringComparison.Ordinal);
        Assert.Equal(6f, (a + 1).Sum().Item<float>() + 0f);
    }

    [Fact]
    public void MatmulMismatch_NamesMatmulAndShapes()
    {
        using var scope = DisposeScope.Enter();
        var e = Assert.Throws<TorchException>(() => Tensor.Zeros([2, 3]).Matmul(Tensor.Zeros([4, 2])));
        Assert.Contains("matmul (shapes [2, 3] and [4, 2])", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conv2dWrongChannels_NamesConvAndShapes()
    {
        using var scope = DisposeScope.Enter();
        var e = Assert.Throws<TorchException>(() => F.Conv2d(Tensor.Zeros([1, 3, 8, 8]), Tensor.Zeros([4, 2, 3, 3])));
        Assert.Contains("conv2d (shapes [1, 3, 8, 8] and [4, 2, 3, 3])", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CatMismatch_NamesEveryShape()
    {
        using var scope = DisposeScope.Enter();
        var e = Assert.Throws<TorchException>(() => Tensor.Cat([Tensor.Zeros([2, 3]), Tensor.Zeros([3, 4])], 0));
        Assert.Contains("cat (shapes [2, 3], [3, 4])", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorsOnOneThread_DoNotLeakIntoAnother()
    {
        using var scope = DisposeScope.Enter();
        Assert.Throws<TorchException>(() => Tensor.Zeros([2]).View(3));
        string? other = null;
        var thread = new Thread(() => other = Interop.NativeStatus.LastError());
        thread.Start();
        thread.Join();
        Assert.Equal(string.Empty, other);
    }

    [Fact]
    public void ViewWithWrongElementCount_Throws_ThenTensorIsStillUsable()
    {
        using var scope = DisposeScope.Enter();
        var x = Tensor.Arange(6);
        var e = Assert.Throws<TorchException>(() => x.View(4));
        Assert.Contains("view (shapes [6])", e.Message, StringComparison.Ordinal);
        Assert.Equal(15L, x.Sum().Item<long>());
    }

    [Fact]
    public void FromData_WithWrongShape_NamesBothCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.From(new float[5], 2, 3));
        Assert.Contains("shape [2, 3] holds 6 elements but the data has 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UsingADisposedTensor_ThrowsObjectDisposed()
    {
        var x = Tensor.Zeros([2]);
        x.Dispose();
        x.Dispose();
        Assert.True(x.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => x.Sum());
    }

    [Fact]
    public void ItemOfWrongType_SaysWhichConversionToMake()
    {
        using var scope = DisposeScope.Enter();
        var e = Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([1]).Item<long>());
        Assert.Contains("To(DType.Int64)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_OnCpuBuild_ReportsUnavailable_AndCudaTensorThrowsManagedError()
    {
        Assert.False(TorchRuntime.CudaIsAvailable);
        Assert.Equal(0, TorchRuntime.CudaDeviceCount);
        var e = Assert.Throws<TorchException>(() => Tensor.Zeros([2], device: Device.Cuda()));
        Assert.StartsWith("full:", e.Message, StringComparison.Ordinal);
    }
}
