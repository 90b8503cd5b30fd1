namespace Distill.Engine;

/// <summary>
/// A loss term or a weight turned NaN or infinite: the run stopped before checkpointing the epoch, so the last
/// checkpoint holds the last finite weights. The message names the epoch, the step and the term.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for a non-finite loss term.</summary>
    /// <param name="epoch">1-based epoch.</param>
    /// <param name="step">1-based step of the epoch where the term was first non-finite.</param>
    /// <param name="term">The loss term (or "parameter &lt;name&gt;").</param>
    /// <param name="value">The term's value at that step.</param>
    public TrainingDivergedException(int epoch, int step, string term, double value)
        : base(Describe(epoch, step, term, value))
    {
        Epoch = epoch;
        Step = step;
        Term = term;
    }

    /// <summary>Creates the exception with a message.</summary>
    public TrainingDivergedException(string message)
        : base(message) => Term = string.Empty;

    /// <summary>Creates the exception with a message and a cause.</summary>
    public TrainingDivergedException(string message, Exception innerException)
        : base(message, innerException) => Term = string.Empty;

    /// <summary>Creates the exception with no message.</summary>
    public TrainingDivergedException()
        => Term = string.Empty;

    /// <summary>The epoch (1-based).</summary>
    public int Epoch { get; }

    /// <summary>The first step (1-based, within the epoch) where the term was not finite.</summary>
    public int Step { get; }

    /// <summary>The loss term, or "parameter &lt;name&gt;" when a weight went bad after a finite loss.</summary>
    public string Term { get; }

    private static string Describe(int epoch, int step, string term, double value)
    {
        var kept = epoch > 1 ? $"the last checkpoint keeps epoch {epoch - 1}" : "no checkpoint was written";
        var what = term.StartsWith("parameter ", StringComparison.Ordinal)
            ? $"{term} is not finite after epoch {epoch}, step {step} (a non-finite gradient)"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"loss term '{term}' is {value} at epoch {epoch}, step {step}");
        return $"training diverged: {what}; the run stopped and {kept} (lower train.lr or the method's weights)";
    }
}
