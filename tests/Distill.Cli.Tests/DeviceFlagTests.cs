using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>--device on the commands that run models: a device this libtorch cannot use is one error and exit code 2.</summary>
public sealed class DeviceFlagTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-device-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Train_DeviceThisMachineLacks_IsOneErrorNamingTheFlagAndKey_AndWritesNothing()
    {
        var recipe = Path.Combine(_directory, "recipe.yaml");
        var output = Path.Combine(_directory, "run");
        File.WriteAllText(recipe, $"student:\n  model: resnet8\noutput: {output}\n");
        var device = Device.Cuda(TorchRuntime.CudaDeviceCount);
        var error = new StringWriter();
        var code = CliRunner.Run(["train", "--config", recipe, "--device", device.ToString()], new StringWriter(), error, _ => null);
        Assert.True(code == 2, $"exit {code}: {error}");
        Assert.StartsWith($"error: train.device (--device) is {device}, but {device} is not available: ", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Train_DeviceTextThatNamesNoDevice_NamesTheOverride()
    {
        var recipe = Path.Combine(_directory, "recipe.yaml");
        File.WriteAllText(recipe, "student:\n  model: resnet8\n");
        var error = new StringWriter();
        var code = CliRunner.Run(["train", "--config", recipe, "--device", "gpu"], new StringWriter(), error, _ => null);
        Assert.Equal(2, code);
        Assert.Contains("train.device: 'gpu' is not a device: expected cpu, cuda or cuda:N.", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_DeviceThisMachineLacks_IsOneErrorNamingTheFlag()
    {
        var device = Device.Cuda(TorchRuntime.CudaDeviceCount);
        var inputs = Path.Combine(_directory, "in.safetensors");
        File.WriteAllBytes(inputs, []);
        var error = new StringWriter();
        var code = CliRunner.Run(["check", "--method", "kd", "--inputs", inputs, "--output", Path.Combine(_directory, "out.safetensors"), "--device", device.ToString()], new StringWriter(), error, _ => null);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: --device is {device}, but {device} is not available: ", error.ToString(), StringComparison.Ordinal);
    }
}
