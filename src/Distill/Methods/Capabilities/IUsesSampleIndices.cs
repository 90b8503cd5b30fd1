namespace Distill.Methods;

/// <summary>
/// A method that reads the batch's data-set indices and the training set's labels (CRD's memory banks): the step's
/// <see cref="DistillationInputs.Indices"/> are then the samples' positions in the training set, and `distill check`
/// reads them as indices [B] with the training set's labels as dataset.labels [N].
/// </summary>
public interface IUsesSampleIndices
{
    /// <summary>N, the training set's size the method was built for (its indices are below it).</summary>
    long DatasetSize { get; }
}
