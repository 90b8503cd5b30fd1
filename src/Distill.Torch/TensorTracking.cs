using System.Collections.Concurrent;

namespace Distill.Torch;

/// <summary>
/// Leak diagnostics for native tensors: a live count tests can assert on, a count of tensors that were
/// released by the garbage collector instead of being disposed, and (opt-in) where each of those was made.
/// </summary>
public static class TensorTracking
{
    private const int MaxReports = 1000;
    private static readonly ConcurrentQueue<string> Reports = new();
    private static long _live;
    private static long _finalized;

    /// <summary>
    /// When true, every new tensor records its allocation stack trace (costly: diagnostics only), and a
    /// tensor the finalizer releases adds that trace to <see cref="LeakReports"/>. Starts true when the
    /// environment variable DISTILL_TRACK_LEAKS is 1.
    /// </summary>
    public static bool TrackAllocations { get; set; } = Environment.GetEnvironmentVariable("DISTILL_TRACK_LEAKS") == "1";

    /// <summary>Native tensors alive now (created and not yet released).</summary>
    public static long LiveCount => Interlocked.Read(ref _live);

    /// <summary>Tensors released by the finalizer since the process started: each was never disposed.</summary>
    public static long FinalizedCount => Interlocked.Read(ref _finalized);

    /// <summary>Allocation traces of finalizer-released tensors made while <see cref="TrackAllocations"/> was on (at most 1000 kept).</summary>
    public static IReadOnlyCollection<string> LeakReports => Reports.ToArray();

    /// <summary>Forgets the collected leak reports.</summary>
    public static void ClearLeakReports() => Reports.Clear();

    internal static void OnCreated() => Interlocked.Increment(ref _live);

    internal static void OnReleased() => Interlocked.Decrement(ref _live);

    internal static void OnFinalized(string? allocationTrace)
    {
        Interlocked.Increment(ref _finalized);
        if (allocationTrace is not null && Reports.Count < MaxReports)
        {
            Reports.Enqueue(allocationTrace);
        }
    }
}
