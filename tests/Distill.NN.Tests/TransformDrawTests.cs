using Distill.NN.Data;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>A recorded draw replays to the very image (bit for bit) and target the random application gave.</summary>
public sealed class TransformDrawTests
{
    public static TheoryData<string> Pipelines => ["crop+flip", "resized+flip", "scale+crop+flip", "segmentation-crop"];

    [Theory]
    [MemberData(nameof(Pipelines))]
    public void ReplayOfARecordedDraw_GivesTheRandomApplicationsImageAndTarget_BitForBit(string name)
    {
        var pipeline = Pipeline(name);
        var image = Gradient(1, 20, 24);
        ITarget target = name == "segmentation-crop" ? StripedMask(20, 24) : new ClassLabel(3);
        var parameters = TransformDraw.ParameterNames(pipeline);
        for (var seed = 0; seed < 40; seed++)
        {
            var (expectedImage, expectedTarget) = pipeline.Apply(image, target, new Random(seed));
            var (recordedImage, _, draw) = TransformDraw.ApplyRecording(pipeline, image, target, new Random(seed));
            Assert.Equal(parameters.Count, draw.Length);
            var (replayed, replayedTarget) = TransformDraw.Replay(pipeline, image, target, draw);
            Assert.Equal(expectedImage.Data, recordedImage.Data);
            Assert.Equal(expectedImage.Data, replayed.Data);
            Assert.Equal((expectedImage.Height, expectedImage.Width), (replayed.Height, replayed.Width));
            if (expectedTarget is Mask mask)
            {
                Assert.Equal(mask.Data, ((Mask)replayedTarget).Data);
            }
        }
    }

    [Fact]
    public void Replay_WithTheWrongNumberOfParameters_IsRefusedNamingTheCounts()
    {
        var pipeline = Pipeline("crop+flip");
        var e = Assert.Throws<ArgumentException>(() => TransformDraw.Replay(pipeline, Gradient(1, 20, 24), NoTarget.Instance, [1, 2]));
        Assert.Contains("holds 2 parameters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_NamesEveryStepWithItsSettings_SoAChangedRecipeDescribesDifferently()
    {
        var a = TransformDraw.Describe(new Compose(new RandomCrop(28, padding: 2), new RandomHorizontalFlip(), Normalize.FashionMnist));
        var b = TransformDraw.Describe(new Compose(new RandomCrop(28, padding: 4), new RandomHorizontalFlip(), Normalize.FashionMnist));
        Assert.Contains("RandomCrop(28x28, padding=2", a, StringComparison.Ordinal);
        Assert.Contains("RandomHorizontalFlip(p=0.5)", a, StringComparison.Ordinal);
        Assert.Contains("Normalize(mean=[0.286]", a, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
    }

    private static ITransform Pipeline(string name) => name switch
    {
        "crop+flip" => new Compose(new RandomCrop(20, 24, 2), new RandomHorizontalFlip(), new Normalize([0.5], [0.25])),
        "resized+flip" => new Compose(new RandomResizedCrop(16, 16), new RandomHorizontalFlip(), new Normalize([0.5], [0.25])),
        "scale+crop+flip" => new Compose(new RandomScale(0.5, 2.0), new RandomCrop(12) { PadIfNeeded = true }, new RandomHorizontalFlip()),
        _ => new Compose(new RandomCrop(12) { PadIfNeeded = true, CategoryMaxRatio = 0.6 }, new RandomHorizontalFlip()),
    };

    private static Image Gradient(int channels, int height, int width)
    {
        var data = new float[channels * height * width];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)Math.Sin(i * 0.37) + (i % 7 * 0.01f);
        }

        return new Image(channels, height, width, data);
    }

    private static Mask StripedMask(int height, int width)
    {
        var data = new byte[height * width];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i % width < width / 3 ? 1 : i / width < height / 2 ? 2 : 0);
        }

        return new Mask(height, width, data);
    }
}
