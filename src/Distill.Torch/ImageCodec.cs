using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>Image file decoding and PNG encoding through the shim's OpenCV imgcodecs.</summary>
public static unsafe class ImageCodec
{
    /// <summary>Decodes PNG, JPEG, BMP and the other formats OpenCV reads to a UInt8 [H, W, C] RGB tensor.</summary>
    /// <param name="data">The file's bytes.</param>
    /// <param name="channels">1 (grey), 3 (RGB) or 0 (as stored).</param>
    /// <exception cref="TorchException">The bytes are not a decodable image.</exception>
    public static Tensor Decode(ReadOnlySpan<byte> data, int channels = 3)
    {
        fixed (byte* p = data)
        {
            return Tensor.Wrap(Native.dt_image_decode(p, data.Length, channels, out var r), r);
        }
    }

    /// <summary>Encodes a UInt8 [H, W, C] RGB or grey tensor as PNG bytes.</summary>
    public static byte[] EncodePng(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var bytes = Tensor.Wrap(Native.dt_image_encode_png(image.Handle, out var r), r).DetachFromScope();
        return bytes.ToArray<byte>();
    }
}
