namespace Distill.Torch;

/// <summary>Kinds of device a tensor can live on. Values are the shim's codes.</summary>
public enum DeviceType
{
    /// <summary>Host memory.</summary>
    Cpu = 0,

    /// <summary>An NVIDIA GPU through CUDA (needs a CUDA build of libtorch).</summary>
    Cuda = 1,

    /// <summary>libtorch's meta device: shapes and dtypes without data (for finding tensors made on the wrong device).</summary>
    Meta = 2,
}
