using Xunit;

namespace Distill.Torch.Tests;

/// <summary>Devices as the runtime sees them, and the CUDA calls' behaviour on a libtorch without CUDA (this machine's).</summary>
public sealed class DeviceTests
{
    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData(" CUDA ", "cuda:0")]
    [InlineData("cuda:3", "cuda:3")]
    [InlineData("meta", "meta")]
    public void Parse_PyTorchSpellings_RoundTripThroughToString(string text, string expected) => Assert.Equal(expected, Device.Parse(text).ToString());

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    public void Parse_TextThatNamesNoDevice_IsAFormatError(string text) => Assert.Throws<FormatException>(() => Device.Parse(text));

    [Fact]
    public void MetaTensors_ReportTheMetaDevice_AndKeepTheirShape()
    {
        using var scope = DisposeScope.Enter();
        var t = Tensor.Zeros([2, 3], device: Device.Meta);
        Assert.Equal(Device.Meta, t.Device);
        Assert.Equal([2L, 3], t.Shape);
        Assert.Equal(Device.Meta, Tensor.Ones([4]).To(Device.Meta).Device);
        Assert.Equal(Device.Meta, (t * 2).Device);
    }

    [Fact]
    public void To_NonBlockingOnTheHost_GivesTheSameValues()
    {
        using var scope = DisposeScope.Enter();
        var t = Tensor.From([1.5f, -2f, 3f]);
        Assert.Equal(t.ToArray<float>(), t.To(Device.Cpu, nonBlocking: true).ToArray<float>());
    }

    [Fact]
    public void Unavailable_TheCpuAndMeta_AreAlwaysUsable()
    {
        Assert.Null(TorchRuntime.Unavailable(Device.Cpu));
        Assert.Null(TorchRuntime.Unavailable(Device.Meta));
    }

    [Fact]
    public void Unavailable_ACudaIndexPastTheLastDevice_SaysWhy()
    {
        var device = Device.Cuda(TorchRuntime.CudaDeviceCount);
        Assert.StartsWith($"{device} is not available: ", TorchRuntime.Unavailable(device), StringComparison.Ordinal);
    }

    [Fact]
    public void CudaCalls_WithoutCuda_AreEmptyOrNoOpsAndPinningIsOneClearError()
    {
        if (TorchRuntime.CudaIsAvailable)
        {
            return; // the path under test is the CPU-only machine's; eng/gpu/run.sh covers the GPU's
        }

        Assert.Equal(0, TorchRuntime.CudaDeviceCount);
        Assert.Empty(TorchRuntime.CudaDevices);
        TorchRuntime.CudaSynchronize();
        using var scope = DisposeScope.Enter();
        var host = Tensor.From([1f, 2f]);
        Assert.False(host.IsPinned);
        var e = Assert.Throws<TorchException>(host.PinMemory);
        Assert.Equal("pin_memory (shapes [2]): pinned host memory needs a CUDA build of libtorch and a GPU (cuda is not available)", e.Message);
        Assert.Equal("cuda_rng_get_state: CUDA device 0 is not available", Assert.Throws<TorchException>(() => TorchRuntime.GetCudaRngState(0)).Message);
    }
}
