using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

public sealed class ImageFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-images-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ImageFolder_ReadsClassesInOrder_AndDecodesPngToRgbFloats()
    {
        WritePng("dog", "b.png", 10, 20, 30);
        WritePng("cat", "a.png", 255, 0, 0);
        WritePng("cat", "c.png", 0, 255, 0);
        File.WriteAllText(Path.Combine(_root, "cat", "notes.txt"), "not an image");
        var data = new ImageFolderDataset(_root);
        Assert.Equal(["cat", "dog"], data.Classes);
        Assert.Equal(3, data.Count);
        var first = data.Get(0);
        Assert.Equal(0, first.Label);
        Assert.Equal((3, 4, 5), (first.Image.Channels, first.Image.Height, first.Image.Width));
        Assert.Equal([1f, 0f, 0f], [first.Image[0, 2, 3], first.Image[1, 2, 3], first.Image[2, 2, 3]]);
        var dog = data.Get(2);
        Assert.Equal(1, dog.Label);
        Assert.Equal(20 / 255f, dog.Image[1, 0, 0]);
        Assert.Equal(1, new ImageFolderDataset(_root, channels: 1).Get(0).Image.Channels);
    }

    [Fact]
    public void CorruptImage_IsRejectedNamingTheFile()
    {
        WritePng("cat", "a.png", 1, 2, 3);
        var bad = Path.Combine(_root, "cat", "b.png");
        File.WriteAllBytes(bad, [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        var data = new ImageFolderDataset(_root);
        var e = Assert.Throws<DataFormatException>(() => data.Get(1));
        Assert.Contains(bad, e.Message, StringComparison.Ordinal);
        Assert.Contains("not an image", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyClassFolder_IsRejectedNamingTheClass()
    {
        WritePng("cat", "a.png", 1, 2, 3);
        Directory.CreateDirectory(Path.Combine(_root, "empty"));
        var e = Assert.Throws<DataFormatException>(() => new ImageFolderDataset(_root));
        Assert.Contains("class 'empty' has no image files", e.Message, StringComparison.Ordinal);
    }

    private void WritePng(string cls, string name, byte r, byte g, byte b)
    {
        Directory.CreateDirectory(Path.Combine(_root, cls));
        var pixels = new byte[4 * 5 * 3];
        for (var i = 0; i < 20; i++)
        {
            pixels[i * 3] = r;
            pixels[(i * 3) + 1] = g;
            pixels[(i * 3) + 2] = b;
        }

        using var t = Tensor.From(pixels, 4, 5, 3);
        File.WriteAllBytes(Path.Combine(_root, cls, name), ImageCodec.EncodePng(t));
    }
}
