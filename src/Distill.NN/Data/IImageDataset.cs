namespace Distill.NN.Data;

/// <summary>
/// An image data set with random access, each image with its target (<see cref="Sample.Target"/>); <see cref="Get"/> must be
/// safe to call from several threads.
/// </summary>
public interface IImageDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Class names, in label order.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>The sample at <paramref name="index"/>, decoded to a fresh float image.</summary>
    Sample Get(int index);

    /// <summary>The class label of sample <paramref name="index"/>, without decoding its image (a set whose targets are not class labels throws NotSupportedException).</summary>
    int LabelOf(int index);
}
