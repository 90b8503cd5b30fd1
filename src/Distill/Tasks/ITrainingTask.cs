using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Tasks;

/// <summary>
/// What the student is trained to do, apart from any distillation: the task owns its targets, its loss terms
/// (added by the trainer before the method's distillation terms), its metrics and their evaluation loop, the
/// metric that picks the "best" epoch, and the lines it contributes to reports. Named <c>ITrainingTask</c> so it
/// does not read as <see cref="System.Threading.Tasks.Task"/>.
/// </summary>
public interface ITrainingTask
{
    /// <summary>The task's name in recipes and reports ("classification").</summary>
    string Name { get; }

    /// <summary>The metric key that picks the best epoch (larger is better), e.g. "top1".</summary>
    string PrimaryMetric { get; }

    /// <summary>The task's weighted loss terms for one batch; the trainer adds the method's terms after them.</summary>
    /// <param name="outputs">The student's outputs for the batch (logits [B, K] for classification).</param>
    /// <param name="targets">The batch's targets (labels [B] for classification).</param>
    LossTerms Loss(Tensor outputs, Tensor targets);

    /// <summary>How many of the batch's samples the outputs got right by the primary metric, as a device scalar (no host sync).</summary>
    Tensor CountCorrect(Tensor outputs, Tensor targets);

    /// <summary>The task's metrics of <paramref name="model"/> over <paramref name="loader"/>, in eval mode under inference mode (the mode is restored).</summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="loader">Evaluation batches (its first epoch's order).</param>
    /// <param name="breakdown">Also compute the per-class (or per-category) values, at one host copy per batch.</param>
    TaskEvaluation Evaluate(ClassificationModel model, DataLoader loader, bool breakdown = false);

    /// <summary>The one-line summary of an evaluation a report or the CLI prints, e.g. "top-1 91.20%, top-5 99.70%".</summary>
    string Describe(TaskEvaluation evaluation);
}
