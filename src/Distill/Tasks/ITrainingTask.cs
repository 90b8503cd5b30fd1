using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;
using Distill.Torch.Distributed;

namespace Distill.Tasks;

/// <summary>
/// What the student is trained to do, apart from any distillation: the task owns its targets, its loss terms
/// (which come before the method's distillation terms in a step's loss), its metrics and their evaluation loop, the
/// metric that picks the "best" epoch, and the labels it contributes to reports. The trainer knows no task: it calls
/// only this interface, so a new task (segmentation, detection) needs no change there. Named <c>ITrainingTask</c> so it
/// does not read as <see cref="System.Threading.Tasks.Task"/>.
/// </summary>
public interface ITrainingTask
{
    /// <summary>The task's name in recipes and reports ("classification").</summary>
    string Name { get; }

    /// <summary>The metric key that picks the best epoch (larger is better), e.g. "top1".</summary>
    string PrimaryMetric { get; }

    /// <summary>How reports, tables and logs label the primary metric, e.g. "top-1".</summary>
    string PrimaryMetricLabel { get; }

    /// <summary>The models this task trains, by name with a description (what `distill models` lists and recipes may name).</summary>
    IReadOnlyList<(string Name, string Description)> Models { get; }

    /// <summary>Builds the model called <paramref name="name"/> for inputs and classes as <paramref name="options"/> say.</summary>
    /// <exception cref="KeyNotFoundException">The task has no such model; the message lists the task's models.</exception>
    /// <exception cref="ArgumentException">The model cannot take inputs of the options' size.</exception>
    TappedModel<Tensor> CreateModel(string name, ModelOptions options);

    /// <summary>
    /// The task as it trains <paramref name="model"/>: this task itself, or (detection) one bound to what the loss must
    /// know of the network beyond its output, such as the detector's levels. The trainer calls it for its student.
    /// </summary>
    /// <exception cref="ArgumentException">The model is not one of this task's kind.</exception>
    ITrainingTask ForModel(TappedModel<Tensor> model);

    /// <summary>
    /// The student taps the task's loss reads beside the model's output (none for classification; a segmenter's auxiliary
    /// logits when it has an auxiliary head): the trainer records them with the method's and hands them over in
    /// <see cref="DistillationInputs.StudentFeatures"/>.
    /// </summary>
    IReadOnlyList<string> StudentTaps(TappedModel<Tensor> student);

    /// <summary>
    /// How the running training metric (<see cref="PrimarySum"/> over the samples seen) is labelled: the primary metric's label
    /// when it is a sum over samples ("top-1"), another label when it is not (segmentation: "pixel acc." per image).
    /// </summary>
    string TrainMetricLabel { get; }

    /// <summary>The task's weighted loss terms for one batch.</summary>
    /// <param name="outputs">The student's outputs for the batch (logits [B, K] for classification).</param>
    /// <param name="targets">The batch's targets (<see cref="ClassLabelBatch"/> for classification).</param>
    /// <exception cref="ArgumentException">The targets are not of the task's kind.</exception>
    LossTerms Loss(Tensor outputs, IBatchTargets targets);

    /// <summary>
    /// One training step's terms as the trainer and `distill check` sum them: the task's terms (weighted by the method's
    /// <see cref="Distiller.TaskLossWeight"/>) first, then the method's distillation terms in its order.
    /// </summary>
    /// <param name="method">The method (null or <see cref="NoDistillation"/>: the task's loss alone).</param>
    /// <param name="inputs">The step's inputs: the student's outputs, the batch's targets, the taps.</param>
    LossTerms StepLoss(Distiller? method, DistillationInputs inputs);

    /// <summary>
    /// The primary metric summed over the batch's samples, as a device scalar (no host sync): the trainer adds it up
    /// over an epoch and divides by the samples seen (classification: the count of correct top-1 predictions).
    /// </summary>
    Tensor PrimarySum(Tensor outputs, IBatchTargets targets);

    /// <summary>The task's metrics of <paramref name="model"/> over <paramref name="loader"/>, in eval mode under inference mode (the mode is restored).</summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="loader">Evaluation batches (its first epoch's order).</param>
    /// <param name="breakdown">Also compute the per-class (or per-category) values, at one host copy per batch.</param>
    /// <param name="group">
    /// Data-parallel: the ranks that share the evaluation (null or one rank: this process evaluates the whole loader). Each
    /// rank evaluates its shard of <paramref name="loader"/> (the whole test loader, not a shard) without duplicates, and
    /// every rank returns the metrics one process would compute over the whole loader. Every rank must call it.
    /// </param>
    TaskEvaluation Evaluate(TappedModel<Tensor> model, DataLoader loader, bool breakdown = false, IProcessGroup? group = null);

    /// <summary>The one-line summary of an evaluation a report or the CLI prints, e.g. "top-1 91.20%, top-5 99.70%".</summary>
    string Describe(TaskEvaluation evaluation);
}
