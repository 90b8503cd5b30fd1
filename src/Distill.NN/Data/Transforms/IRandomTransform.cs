namespace Distill.NN.Data;

/// <summary>
/// A random transform whose draw can be recorded and replayed: <see cref="Draw"/> takes from the generator exactly what
/// <see cref="ITransform.Apply"/> takes and returns the parameters drawn (crop offsets, a flip flag, a ratio), and
/// <see cref="Replay"/> applies a given parameter set without drawing. Apply is Draw then Replay, so a replayed draw gives
/// the very image (bit for bit) and target the random application gave.
/// </summary>
public interface IRandomTransform : ITransform
{
    /// <summary>The names of the parameters one draw holds, in order (e.g. "top", "left").</summary>
    IReadOnlyList<string> ParameterNames { get; }

    /// <summary>Draws the parameters for this image and target (the target matters only where documented, e.g. a crop's class balance).</summary>
    double[] Draw(Image image, ITarget target, Random random);

    /// <summary>Applies the transform with the given parameters (as many as <see cref="ParameterNames"/>).</summary>
    /// <exception cref="ArgumentException">The parameters are not as many as the names.</exception>
    (Image Image, ITarget Target) Replay(Image image, ITarget target, ReadOnlySpan<double> parameters);
}
