using System.Text.Json;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

public sealed class DataGoldenTests
{
    private static readonly JsonFixture Golden = new("data_pipeline.json");

    private static JsonElement Root => Golden.Root;

    [Theory]
    [InlineData(0UL)]
    [InlineData(42UL)]
    public void ShuffledOrder_EqualsPyTorchDataLoaderWithTheSameGeneratorSeed(ulong seed)
    {
        var expected = Root.GetProperty("loader_orders").GetProperty(seed.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .EnumerateArray().Select(e => e.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var loader = new DataLoader(TinyDataset(10), 3, shuffle: true, seed: seed);
        for (var epoch = 0; epoch < expected.Length; epoch++)
        {
            Assert.Equal(expected[epoch], loader.EpochOrder(epoch).Order);
        }

        // Out of order (a resumed run) gives the same permutations.
        Assert.Equal(expected[1], new DataLoader(TinyDataset(10), 3, shuffle: true, seed: seed).EpochOrder(1).Order);
    }

    [Fact]
    public void Loader_BatchesEveryIndexOnce_InTheEpochOrder_WithLabelsAndShapes()
    {
        using var scope = DisposeScope.Enter();
        var data = TinyDataset(10);
        var loader = new DataLoader(data, 3, shuffle: true, seed: 42, workers: 3);
        var seen = new List<long>();
        var batches = loader.Epoch(0).ToList();
        Assert.Equal(4, batches.Count);
        foreach (var batch in batches)
        {
            Assert.Equal(batch.Indices.ToArray<long>(), batch.Labels.ToArray<long>().Select(l => l).ToArray());
            Assert.Equal([batch.Size, 1L, 2L, 2L], batch.Images.Shape);
            seen.AddRange(batch.Indices.ToArray<long>());
        }

        Assert.Equal(loader.EpochOrder(0).Order.Select(i => (long)i), seen);
        Assert.Equal(3, new DataLoader(data, 3, dropLast: true).Epoch(0).Count());
    }

    [Fact]
    public void RandomTransforms_AreDeterministicPerSeed_AndIndependentOfWorkerCount()
    {
        using var scope = DisposeScope.Enter();
        var data = TinyDataset(16, size: 6);
        var transform = new Compose(new RandomCrop(6, padding: 2), new RandomHorizontalFlip());
        float[] Run(int workers) => new DataLoader(data, 4, shuffle: true, seed: 7, transform: transform, workers: workers)
            .Epoch(1).SelectMany(b => b.Images.ToArray<float>()).ToArray();
        var one = Run(1);
        Assert.Equal(one, Run(4));
        Assert.NotEqual(one, new DataLoader(data, 4, shuffle: true, seed: 8, transform: transform).Epoch(1).SelectMany(b => b.Images.ToArray<float>()).ToArray());
    }

    [Fact]
    public void StoppingEarly_ReleasesTheWorkers()
    {
        using var scope = DisposeScope.Enter();
        var loader = new DataLoader(TinyDataset(100), 2, workers: 4);
        Assert.Single(loader.Epoch(0).Take(1));
        Assert.Equal(50, loader.Epoch(0).Count());
    }

    [Theory]
    [InlineData("normalize")]
    [InlineData("resize_12x5")]
    [InlineData("resize_4x4")]
    [InlineData("pad_reflect_2")]
    [InlineData("pad_constant_3")]
    [InlineData("flip")]
    [InlineData("center_crop_4x6")]
    public void ImageOperation_MatchesTorchsTensorOps(string name)
    {
        using var scope = DisposeScope.Enter();
        var source = GoldenTensor.Parse(Root.GetProperty("image"));
        var image = new Image(3, 7, 9, source.Values.Select(v => (float)v).ToArray());
        var random = new Random(0);
        var result = name switch
        {
            "normalize" => Normalize.Cifar100.Apply(image, random),
            "resize_12x5" => new Resize(12, 5).Apply(image, random),
            "resize_4x4" => new Resize(4, 4).Apply(image, random),
            "pad_reflect_2" => ImageOps.Pad(image, 2, PaddingMode.Reflect),
            "pad_constant_3" => ImageOps.Pad(image, 3, PaddingMode.Constant),
            "flip" => ImageOps.FlipHorizontal(image),
            "center_crop_4x6" => new CenterCrop(4, 6).Apply(image, random),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        GoldenTensor.Parse(Root.GetProperty(name)).AssertMatches(Tensor.From(result.Data, result.Channels, result.Height, result.Width), name);
    }

    [Fact]
    public void RandomResizedCrop_GivesTheRequestedSize_AndStaysInsideTheImage()
    {
        var image = new Image(1, 20, 30, Enumerable.Range(0, 600).Select(i => (float)i).ToArray());
        var t = new RandomResizedCrop(8, 8);
        for (var seed = 0; seed < 50; seed++)
        {
            var r = t.Apply(image, new Random(seed));
            Assert.Equal((1, 8, 8), (r.Channels, r.Height, r.Width));
            Assert.All(r.Data, v => Assert.InRange(v, 0f, 599f));
        }
    }

    [Fact]
    public void FashionMnist_FromDebiansPackage_ReadsAsPythonSeesIt()
    {
        var golden = Root.GetProperty("fashion_test");
        var data = IdxReader.LoadFashionMnist(train: false);
        Assert.Equal(golden.GetProperty("count").GetInt32(), data.Count);
        Assert.Equal(golden.GetProperty("first_labels").EnumerateArray().Select(v => v.GetInt32()), data.Labels.Take(20));
        var first = data.Get(0).Image;
        Assert.Equal((1, 28, 28), (first.Channels, first.Height, first.Width));
        Assert.Equal(golden.GetProperty("first_image_sum").GetInt64(), (long)Math.Round(first.Data.Sum(v => (double)v) * 255));
        Assert.Equal(golden.GetProperty("last_image_sum").GetInt64(), (long)Math.Round(data.Get(data.Count - 1).Image.Data.Sum(v => (double)v) * 255));
        Assert.Equal("Ankle boot", data.Classes[9]);
    }

    private static InMemoryImageDataset TinyDataset(int count, int size = 2)
    {
        var pixels = new byte[count * size * size];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 7 % 251);
        }

        return new InMemoryImageDataset(pixels, Enumerable.Range(0, count).ToArray(), 1, size, size, Enumerable.Range(0, count).Select(i => $"c{i}").ToArray());
    }
}
