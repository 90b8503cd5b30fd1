using Xunit;

namespace Distill.Torch.Tests;

public sealed class DataTests
{
    [Fact]
    public void FromAndToArray_RoundTrip_EveryDType()
    {
        using var scope = DisposeScope.Enter();
        Assert.Equal([1.5f, -2f], Tensor.From([1.5f, -2f]).ToArray<float>());
        Assert.Equal([1.5, -2.0], Tensor.From([1.5, -2.0]).ToArray<double>());
        Assert.Equal([(Half)1.5, (Half)(-2)], Tensor.From([(Half)1.5, (Half)(-2)]).ToArray<Half>());
        Assert.Equal([5L, -7L], Tensor.From([5L, -7L]).ToArray<long>());
        Assert.Equal([5, -7], Tensor.From([5, -7]).ToArray<int>());
        Assert.Equal([(short)5, (short)-7], Tensor.From([(short)5, (short)-7]).ToArray<short>());
        Assert.Equal([(sbyte)5, (sbyte)-7], Tensor.From([(sbyte)5, (sbyte)-7]).ToArray<sbyte>());
        Assert.Equal([(byte)5, (byte)250], Tensor.From([(byte)5, (byte)250]).ToArray<byte>());
        Assert.Equal([true, false], Tensor.From([true, false]).ToArray<bool>());
    }

    [Fact]
    public void BFloat16_ConvertsThroughFloat32()
    {
        using var scope = DisposeScope.Enter();
        var b = Tensor.From([1.5f, 3f]).To(DType.BFloat16);
        Assert.Equal(DType.BFloat16, b.DType);
        Assert.Equal([1.5f, 3f], b.To(DType.Float32).ToArray<float>());
    }

    [Fact]
    public void Metadata_ReportsShapeStridesDTypeDevice()
    {
        using var scope = DisposeScope.Enter();
        var x = Tensor.Zeros([2, 3, 4], DType.Float64);
        Assert.Equal([2L, 3L, 4L], x.Shape);
        Assert.Equal([12L, 4L, 1L], x.Strides);
        Assert.Equal(3, x.Dim);
        Assert.Equal(24, x.NumberOfElements);
        Assert.Equal(DType.Float64, x.DType);
        Assert.Equal(Device.Cpu, x.Device);
        Assert.Equal(4, x.Size(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Size(3));
    }

    [Fact]
    public void Scalar_HasNoDimensions_AndItemReadsIt()
    {
        using var scope = DisposeScope.Enter();
        var s = Tensor.Scalar(2.5f);
        Assert.Equal(0, s.Dim);
        Assert.Equal(2.5f, s.Item<float>());
        Assert.Equal(7L, Tensor.Scalar(7L).Item<long>());
    }

    [Fact]
    public void ToString_ShowsValuesShapeAndDType_AndElidesLongDimensions()
    {
        using var scope = DisposeScope.Enter();
        Assert.Equal("tensor([[1, 2], [3, 4]], shape=[2, 2], dtype=Int64)", Tensor.From([1L, 2, 3, 4], 2, 2).ToString());
        Assert.Equal("tensor([0.5, -1.25], shape=[2], dtype=Float32, requires_grad)", Tensor.From([0.5f, -1.25f]).RequireGrad().ToString());
        Assert.Equal("tensor([0, 1, 2, ..., 7, 8, 9], shape=[10], dtype=Int64)", Tensor.Arange(10).ToString());
        Assert.Equal("tensor([True, False], shape=[2], dtype=Bool)", Tensor.From([true, false]).ToString());
    }

    [Fact]
    public void Device_ParsesPyTorchSpellings()
    {
        Assert.Equal(Device.Cpu, Device.Parse("cpu"));
        Assert.Equal(Device.Cuda(1), Device.Parse("cuda:1"));
        Assert.Equal("cuda:0", Device.Parse("CUDA").ToString());
        Assert.Throws<FormatException>(() => Device.Parse("tpu"));
    }

    [Fact]
    public void Runtime_ReportsVersionsAndThreads()
    {
        Assert.StartsWith("1.13", TorchRuntime.LibTorchVersion, StringComparison.Ordinal);
        Assert.Equal(Interop.NativeLibraryLoader.ExpectedAbiVersion, TorchRuntime.AbiVersion);
        var threads = TorchRuntime.Threads;
        TorchRuntime.Threads = 1;
        Assert.Equal(1, TorchRuntime.Threads);
        TorchRuntime.Threads = threads;
    }
}
