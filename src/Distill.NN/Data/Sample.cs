namespace Distill.NN.Data;

/// <summary>One labelled image with its index in the data set (CRD's memory bank needs the index).</summary>
/// <param name="Image">The image.</param>
/// <param name="Label">The class index.</param>
/// <param name="Index">The position in the data set.</param>
public readonly record struct Sample(Image Image, int Label, int Index);
