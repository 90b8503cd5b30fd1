using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Tasks;

/// <summary>
/// The evaluation pass every task runs: the model in eval mode under inference mode over the loader's first epoch, each
/// batch (and what the task computes from it) in its own dispose scope, the model's training mode restored afterwards.
/// </summary>
internal static class EvaluationPass
{
    /// <summary>Runs the pass, handing each batch and the model's output for it to <paramref name="onBatch"/>; returns <paramref name="finish"/>'s result (computed still under inference mode).</summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="loader">Evaluation batches (its first epoch's order).</param>
    /// <param name="onBatch">Accumulates one batch (tensors it keeps past the batch must leave the batch's scope).</param>
    /// <param name="finish">Builds the evaluation from what was accumulated.</param>
    public static T Run<T>(TappedModel<Tensor> model, DataLoader loader, Action<Batch, Tensor> onBatch, Func<T> finish)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(onBatch);
        ArgumentNullException.ThrowIfNull(finish);
        var training = model.IsTraining;
        model.Eval();
        try
        {
            using var inference = Autograd.InferenceMode();
            using var batches = loader.Epoch(0).GetEnumerator();
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

            return finish();
        }
        finally
        {
            model.Train(training);
        }
    }
}
