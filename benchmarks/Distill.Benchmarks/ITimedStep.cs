namespace Distill.Benchmarks;

/// <summary>One row of a step benchmark while it is timed (its taps recorded until it is disposed).</summary>
internal interface ITimedStep : IDisposable
{
    /// <summary>Runs one step of the row.</summary>
    void Step();
}
