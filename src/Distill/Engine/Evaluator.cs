using Distill.Models;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// The evaluation entry point of training, `distill eval`, `compare` and `quickstart`: every call runs the task's one
/// evaluation loop (<see cref="ITrainingTask.Evaluate"/>), in eval mode under inference mode (the model's mode is restored).
/// </summary>
public static class Evaluator
{
    /// <summary>The task's metrics of <paramref name="model"/> over <paramref name="loader"/> (classification when no task is given).</summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="loader">Evaluation batches.</param>
    /// <param name="task">The task (default: classification).</param>
    /// <param name="breakdown">Also compute per-class values (one host copy per batch).</param>
    public static TaskEvaluation Evaluate(TappedModel<Tensor> model, DataLoader loader, ITrainingTask? task = null, bool breakdown = false) =>
        (task ?? new ClassificationTask()).Evaluate(model, loader, breakdown);

    /// <summary>The fraction of samples whose largest logit is their label (the classification task's top-1).</summary>
    public static double Accuracy(TappedModel<Tensor> model, DataLoader loader) => Evaluate(model, loader).Metrics[ClassificationTask.Top1];
}
