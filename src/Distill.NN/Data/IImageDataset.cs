namespace Distill.NN.Data;

/// <summary>A labelled image data set with random access; <see cref="Get"/> must be safe to call from several threads.</summary>
public interface IImageDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Class names, in label order.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>The sample at <paramref name="index"/>, decoded to a fresh float image.</summary>
    Sample Get(int index);

    /// <summary>The label of sample <paramref name="index"/>, without decoding its image.</summary>
    int LabelOf(int index);
}
