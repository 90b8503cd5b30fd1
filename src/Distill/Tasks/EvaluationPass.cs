using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;
using Distill.Torch.Distributed;

namespace Distill.Tasks;

/// <summary>
/// The evaluation pass every task runs: the model in eval mode under inference mode over the loader's first epoch, each
/// batch (and what the task computes from it) in its own dispose scope, the model's training mode restored afterwards.
/// Data-parallel (a process group of more than one rank): each rank runs its shard of the loader without wrapping
/// (<see cref="DataLoader.EvaluationShard"/>), then the task's combine step gathers what the ranks accumulated so every
/// rank finishes with the metrics of one process over the whole loader.
/// </summary>
internal static class EvaluationPass
{
    /// <summary>Runs the pass, handing each batch and the model's output for it to <paramref name="onBatch"/>; returns <paramref name="finish"/>'s result (computed still under inference mode).</summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="loader">Evaluation batches (its first epoch's order).</param>
    /// <param name="onBatch">Accumulates one batch (tensors it keeps past the batch must leave the batch's scope).</param>
    /// <param name="finish">Builds the evaluation from what was accumulated.</param>
    /// <param name="group">The ranks that share the evaluation (null or one rank: this process evaluates everything).</param>
    /// <param name="combine">
    /// With a group of more than one rank, called once after this rank's shard: combines every rank's accumulation into
    /// the whole loader's (the same collectives in the same order on every rank), before <paramref name="finish"/>.
    /// </param>
    /// <exception cref="ArgumentException">A group is given with a loader that is already one rank's shard.</exception>
    public static T Run<T>(TappedModel<Tensor> model, DataLoader loader, Action<Batch, Tensor> onBatch, Func<T> finish, IProcessGroup? group = null, Action<IProcessGroup>? combine = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(onBatch);
        ArgumentNullException.ThrowIfNull(finish);
        var sharded = group is { WorldSize: > 1 };
        if (sharded)
        {
            ArgumentNullException.ThrowIfNull(combine);
            if (loader.WorldSize != 1)
            {
                throw new ArgumentException($"sharded evaluation takes the whole test loader, not rank {loader.Rank}'s shard of {loader.WorldSize}", nameof(loader));
            }

            loader = loader.EvaluationShard(group!.Rank, group.WorldSize);
        }

        var training = model.IsTraining;
        model.Eval();
        try
        {
            using var inference = Autograd.InferenceMode();
            using (var batches = loader.Epoch(0).GetEnumerator())
            {
                while (true)
                {
                    using var scope = DisposeScope.Enter();
                    if (!batches.MoveNext())
                    {
                        break;
                    }

                    var batch = batches.Current;
                    onBatch(batch, model.Forward(batch.Images));
                }
            }

            if (sharded)
            {
                using var scope = DisposeScope.Enter();
                combine!(group!);
            }

            return finish();
        }
        finally
        {
            model.Train(training);
        }
    }

    /// <summary>Sums each value over the ranks (exact: 64-bit integers).</summary>
    public static long[] Sum(IProcessGroup group, params long[] values)
    {
        using var scope = DisposeScope.Enter();
        var t = Tensor.From(values, values.Length);
        group.AllReduce([t]);
        return t.ToArray<long>();
    }

    /// <summary>The largest value over the ranks.</summary>
    public static long Max(IProcessGroup group, long value)
    {
        using var scope = DisposeScope.Enter();
        var t = Tensor.From(new[] { value }, 1);
        group.AllReduce([t], ReduceOp.Max);
        return t.ToArray<long>()[0];
    }

    /// <summary>
    /// Every rank's values (any length, possibly none): the lengths are all-gathered first, then the values padded to the
    /// longest (at least one value); element r of the result is rank r's values.
    /// </summary>
    public static double[][] Gather(IProcessGroup group, double[] values)
    {
        using var scope = DisposeScope.Enter();
        var lengths = group.AllGather(Tensor.From(new[] { (long)values.Length }, 1)).Select(t => t.ToArray<long>()[0]).ToArray();
        var longest = Math.Max(1, lengths.Max()); // no empty tensors through the transport
        var padded = new double[longest];
        values.CopyTo(padded, 0);
        var gathered = group.AllGather(Tensor.From(padded, longest));
        return [.. gathered.Select((t, r) => t.ToArray<double>()[..(int)lengths[r]])];
    }
}
