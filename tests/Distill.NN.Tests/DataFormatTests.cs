using Distill.NN.Data;
using Distill.Testing;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>The IDX and CIFAR readers on files the tests write, good and broken.</summary>
public sealed class DataFormatTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-data-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_RawOrGzip_ReadsImagesAndLabels(bool gzip)
    {
        var (images, labels) = WriteIdx(3, 2, 2, gzip);
        var data = IdxReader.Load(images, labels, ["a", "b", "c"]);
        Assert.Equal(3, data.Count);
        Assert.Equal([0, 1, 2], data.Labels);
        Assert.Equal(4 / 255f, data.Get(1).Image.Data[0]);
    }

    [Fact]
    public void Idx_Truncated_SaysHowManyBytesAreMissing()
    {
        var (images, labels) = WriteIdx(3, 2, 2, gzip: false);
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..^2]);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Load(images, labels, ["a", "b", "c"]));
        Assert.Contains("truncated: dimensions [3, 2, 2] need 12 bytes after the 16-byte header; the file has 10", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Idx_WrongMagic_IsRejectedAtByteZero()
    {
        var path = Path.Combine(_directory, "bad.idx");
        File.WriteAllBytes(path, [1, 2, 3, 4, 0, 0, 0, 1]);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(path));
        Assert.Contains("magic 01 02 03 04 at byte 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Idx_LabelOutsideTheClasses_NamesItsByte()
    {
        var (images, labels) = WriteIdx(3, 2, 2, gzip: false);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Load(images, labels, ["a", "b"]));
        Assert.Contains("label 2 at byte 10", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "")]
    [InlineData(true, ".gz")]
    [InlineData(true, "")]
    [InlineData(false, ".gz")]
    public void FashionMnistLayout_IsFoundRawOrGzipped_AndCompressionIsToldByTheBytesNotTheName(bool gzip, string suffix)
    {
        // The MNIST site's canonical files unpack to raw train-images-idx3-ubyte; downloads end in .gz; some mirrors name them wrongly.
        var (images, labels) = WriteIdx(3, 2, 2, gzip);
        foreach (var prefix in new[] { "train", "t10k" })
        {
            File.Copy(images, Path.Combine(_directory, $"{prefix}-images-idx3-ubyte{suffix}"));
            File.Copy(labels, Path.Combine(_directory, $"{prefix}-labels-idx1-ubyte{suffix}"));
        }

        Assert.Equal(Path.Combine(_directory, $"train-images-idx3-ubyte{suffix}"), IdxReader.FindFile(_directory, "train-images-idx3-ubyte"));
        var test = IdxReader.LoadFashionMnist(train: false, _directory);
        Assert.Equal([0, 1, 2], test.Labels);
        Assert.Equal(4 / 255f, test.Get(1).Image.Data[0]);
    }

    [Fact]
    public void Idx_MissingFile_NamesBothTheRawAndTheGzippedName()
    {
        var e = Assert.Throws<DataFormatException>(() => IdxReader.FindFile(_directory, "t10k-images-idx3-ubyte"));
        Assert.Equal($"{Path.Combine(_directory, "t10k-images-idx3-ubyte")}: no such file (nor {Path.Combine(_directory, "t10k-images-idx3-ubyte.gz")})", e.Message);
    }

    [Fact]
    public void Cifar100_FineAndCoarseLabels_AndPlanarPixels()
    {
        var path = Path.Combine(_directory, "train.bin");
        var record = new byte[2 + 3072];
        record[0] = 4;
        record[1] = 77;
        record[2] = 255;
        record[2 + 1024] = 128;
        File.WriteAllBytes(path, [.. record, .. record]);
        var fine = CifarReader.LoadCifar100([path]);
        var coarse = CifarReader.LoadCifar100([path], coarseLabels: true);
        Assert.Equal([77, 77], fine.Labels);
        Assert.Equal([4, 4], coarse.Labels);
        var image = fine.Get(0).Image;
        Assert.Equal((3, 32, 32), (image.Channels, image.Height, image.Width));
        Assert.Equal(1f, image[0, 0, 0]);
        Assert.Equal(128 / 255f, image[1, 0, 0]);
    }

    [Fact]
    public void Cifar10_PartialRecord_IsRejectedWithTheRecordAndOffset()
    {
        var path = Path.Combine(_directory, "data_batch_1.bin");
        File.WriteAllBytes(path, new byte[3073 + 100]);
        var e = Assert.Throws<DataFormatException>(() => CifarReader.LoadCifar10([path]));
        Assert.Contains("record 1 (at byte 3073) is truncated", e.Message, StringComparison.Ordinal);
    }

    private (string Images, string Labels) WriteIdx(int count, int h, int w, bool gzip)
    {
        var imagesPath = Path.Combine(_directory, "images" + (gzip ? ".gz" : string.Empty));
        var labelsPath = Path.Combine(_directory, "labels" + (gzip ? ".gz" : string.Empty));
        TinyIdx.WritePair(imagesPath, labelsPath, [.. Enumerable.Range(0, count * h * w).Select(i => (byte)i)], [.. Enumerable.Range(0, count).Select(i => (byte)i)], h, w, gzip);
        return (imagesPath, labelsPath);
    }
}
