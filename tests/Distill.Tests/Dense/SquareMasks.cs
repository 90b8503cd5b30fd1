using Distill.NN.Data;

namespace Distill.Tests.Dense;

/// <summary>16×16 images with one square of class 1 or 2 on background 0 (the image shows the class as its channel): the dense methods' toy training data.</summary>
internal sealed class SquareMasks(int count) : IImageDataset
{
    private const int Side = 16;

    public int Count => count;

    public IReadOnlyList<string> Classes { get; } = ["background", "a", "b"];

    public Sample Get(int index)
    {
        var random = new Random(index);
        var mask = new byte[Side * Side];
        var (y0, x0, s, c) = (random.Next(0, 8), random.Next(0, 8), random.Next(4, 8), (byte)random.Next(1, 3));
        for (var y = y0; y < y0 + s; y++)
        {
            for (var x = x0; x < x0 + s; x++)
            {
                mask[(y * Side) + x] = c;
            }
        }

        var pixels = new float[3 * Side * Side];
        for (var i = 0; i < mask.Length; i++)
        {
            pixels[(mask[i] * Side * Side) + i] = 0.8f + (0.2f * random.NextSingle());
        }

        return new Sample(new Image(3, Side, Side, pixels), new Mask(Side, Side, mask), index);
    }

    public int LabelOf(int index) => throw new NotSupportedException("masks only");
}
