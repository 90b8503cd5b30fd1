using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>
/// The class-label path of the loader, pinned by hashes recorded from the loader as it was before targets became generic
/// (Sample(Image, int Label, int Index), image-only transforms): images, labels and indices must stay byte for byte the same,
/// so every golden value and quickstart number downstream keeps its meaning. The pipelines use only exact arithmetic
/// (crops, flips, float32 divides and bilinear weights, no libm calls), so the hashes hold on every x86-64 CPU.
/// </summary>
public sealed class ClassLabelLoaderRegressionTests
{
    [Theory]
    [InlineData("crop_flip_normalize", 1, 0, "E306A053C7F1BF05F9E191D6393478FE70740D3CD97F45C711336812CAFCC080")]
    [InlineData("crop_flip_normalize", 2, 1, "D5DCB39972E6C17157C3F4139435E18279CDAF04FF183EDB20646641732BB18E")]
    [InlineData("resize_center_crop", 1, 0, "41AEA184990062C630D685AE7F842FD953580A083E2F16A51E12E5C3EAD6CE5B")]
    public void ClassLabelBatches_AreByteIdenticalToThePreTargetLoader(string pipeline, int worldSize, int rank, string expected)
    {
        using var scope = DisposeScope.Enter();
        ITransform transform = pipeline switch
        {
            "crop_flip_normalize" => new Compose(new RandomCrop(8, padding: 2, paddingMode: PaddingMode.Reflect), new RandomHorizontalFlip(), Normalize.Cifar100),
            "resize_center_crop" => new Compose(new Resize(10, 7), new CenterCrop(6), Normalize.Cifar100),
            _ => throw new ArgumentOutOfRangeException(nameof(pipeline)),
        };
        var loader = new DataLoader(Dataset(23), 5, shuffle: true, seed: 3, transform: transform, workers: 2, rank: rank, worldSize: worldSize);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            foreach (var batch in loader.Epoch(epoch))
            {
                Assert.Equal(DType.Int64, batch.Labels.DType);
                Assert.Equal([batch.Size], batch.Labels.Shape);
                hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(batch.Images.ToArray<float>().AsSpan()));
                hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(batch.Labels.ToArray<long>().AsSpan()));
                hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(batch.Indices.ToArray<long>().AsSpan()));
            }
        }

        Assert.Equal(expected, Convert.ToHexString(hash.GetHashAndReset()));
    }

    /// <summary>Three-channel 8x8 images with varied pixels and labels that differ from the indices.</summary>
    private static InMemoryImageDataset Dataset(int count)
    {
        const int Size = 3 * 8 * 8;
        var pixels = new byte[count * Size];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(((i * 37) + (i / 11)) & 0xFF);
        }

        return new InMemoryImageDataset(pixels, Enumerable.Range(0, count).Select(i => (i * 3) % 4).ToArray(), 3, 8, 8, ["a", "b", "c", "d"]);
    }
}
