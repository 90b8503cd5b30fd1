using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>Top-1 accuracy of a model over a loader, in eval mode under inference mode (the model's mode is restored).</summary>
public static class Evaluator
{
    /// <summary>The fraction of samples whose largest logit is their label.</summary>
    public static double Accuracy(ClassificationModel model, DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        var training = model.IsTraining;
        model.Eval();
        try
        {
            using var inference = Autograd.InferenceMode();
            // Counted where the batches are; one copy to the host at the end.
            using var correct = Tensor.Zeros([], DType.Int64, loader.Device).DetachFromScope();
            long total = 0;
            using var batches = loader.Epoch(0).GetEnumerator();
            while (true)
            {
                using var scope = DisposeScope.Enter();
                if (!batches.MoveNext())
                {
                    break;
                }

                var batch = batches.Current;
                correct.AddInPlace(model.Forward(batch.Images).ArgMax(1).Eq(batch.Labels).Sum());
                total += batch.Size;
            }

            return total == 0 ? 0 : (double)correct.Item<long>() / total;
        }
        finally
        {
            model.Train(training);
        }
    }
}
