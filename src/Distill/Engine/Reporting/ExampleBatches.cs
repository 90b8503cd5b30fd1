using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Engine.Reporting;

/// <summary>The first images of a loader's first epoch, batch by batch, for a report's examples.</summary>
internal static class ExampleBatches
{
    /// <summary>
    /// Hands each batch and how many of its first images are still wanted to <paramref name="collect"/> (each batch in its
    /// own dispose scope) until <paramref name="count"/> examples are made or the epoch ends.
    /// </summary>
    public static IReadOnlyList<T> Collect<T>(DataLoader loader, int count, Func<Batch, int, IEnumerable<T>> collect)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(collect);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var examples = new List<T>(count);
        if (count == 0)
        {
            return examples;
        }

        using var batches = loader.Epoch(0).GetEnumerator();
        while (examples.Count < count)
        {
            using var scope = DisposeScope.Enter();
            if (!batches.MoveNext())
            {
                break;
            }

            var batch = batches.Current;
            examples.AddRange(collect(batch, (int)Math.Min(count - examples.Count, batch.Size)));
        }

        return examples;
    }
}
