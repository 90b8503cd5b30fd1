namespace Distill.Torch;

/// <summary>A CUDA device as the driver describes it (<see cref="TorchRuntime.CudaDevices"/>).</summary>
/// <param name="Index">The ordinal (cuda:Index).</param>
/// <param name="Name">The product name, e.g. "NVIDIA H200".</param>
/// <param name="TotalMemory">Device memory in bytes.</param>
/// <param name="Major">Compute capability, major.</param>
/// <param name="Minor">Compute capability, minor.</param>
public sealed record CudaDeviceInfo(int Index, string Name, long TotalMemory, int Major, int Minor)
{
    /// <summary>"cuda:0 NVIDIA H200, 139.8 GiB, compute capability 9.0".</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"cuda:{Index} {Name}, {TotalMemory / (1024.0 * 1024 * 1024):F1} GiB, compute capability {Major}.{Minor}");
}
