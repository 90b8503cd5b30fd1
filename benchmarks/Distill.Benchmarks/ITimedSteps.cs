namespace Distill.Benchmarks;

/// <summary>The rows of a step benchmark compared with a PyTorch script (<see cref="StepComparison"/>): one batch, one step per row.</summary>
internal interface ITimedSteps
{
    /// <summary>The rows, in the order they are timed (the script's ROWS).</summary>
    IReadOnlyList<string> Rows { get; }

    /// <summary>The images of every step.</summary>
    int Batch { get; }

    /// <summary>Starts timing <paramref name="row"/>; the session's <see cref="ITimedStep.Step"/> runs one step.</summary>
    ITimedStep Begin(string row);
}
