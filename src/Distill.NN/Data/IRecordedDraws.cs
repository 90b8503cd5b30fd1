namespace Distill.NN.Data;

/// <summary>
/// Pre-drawn augmentation draws per sample (a soft-label store's): a loader given them replays, for each sample and epoch,
/// one of the sample's draws (<see cref="DataLoader.ChooseDraw"/>) instead of drawing new parameters.
/// </summary>
public interface IRecordedDraws
{
    /// <summary>Draws stored per sample (M).</summary>
    int DrawsPerImage { get; }

    /// <summary>The parameters of draw <paramref name="draw"/> of sample <paramref name="index"/> (<see cref="TransformDraw"/>'s layout).</summary>
    ReadOnlySpan<double> Parameters(int index, int draw);
}
