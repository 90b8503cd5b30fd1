using System.Globalization;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.NN.Metrics;
using Distill.Torch;
using Distill.Torch.Distributed;
using F = Distill.Torch.Functional;

namespace Distill.Tasks;

/// <summary>
/// Image classification: targets are class labels [B], the loss is cross-entropy times <see cref="LossWeight"/>
/// (term "ce", with optional label smoothing), the metrics are top-1 and, with at least five classes, top-5
/// accuracy; top-1 picks the best epoch. Its evaluation loop is the only one: training, `distill eval`,
/// `compare` and `quickstart` all call <see cref="Evaluate"/>.
/// </summary>
public sealed class ClassificationTask : ITrainingTask
{
    /// <summary>The metric key of top-1 accuracy.</summary>
    public const string Top1 = "top1";

    /// <summary>The metric key of top-5 accuracy (present with at least five classes).</summary>
    public const string Top5 = "top5";

    /// <summary>The loss term's name in logs and parity checks.</summary>
    public const string LossTerm = "ce";

    /// <summary>Creates the task.</summary>
    /// <param name="lossWeight">The cross-entropy's weight (a method's <c>ce_weight</c> sets it).</param>
    /// <param name="labelSmoothing">Label smoothing of the cross-entropy, in [0, 1).</param>
    public ClassificationTask(double lossWeight = 1, double labelSmoothing = 0)
    {
        if (!double.IsFinite(lossWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(lossWeight), lossWeight, "the task-loss weight must be finite");
        }

        if (labelSmoothing is < 0 or >= 1 || double.IsNaN(labelSmoothing))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");
        }

        LossWeight = lossWeight;
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>The cross-entropy's weight.</summary>
    public double LossWeight { get; }

    /// <summary>The cross-entropy's label smoothing.</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc />
    public string Name => "classification";

    /// <inheritdoc />
    public string PrimaryMetric => Top1;

    /// <inheritdoc />
    public string PrimaryMetricLabel => "top-1";

    /// <inheritdoc />
    public string TrainMetricLabel => PrimaryMetricLabel;

    /// <inheritdoc />
    public IReadOnlyList<(string Name, string Description)> Models => [.. ModelRegistry.Names];

    /// <inheritdoc />
    public TappedModel<Tensor> CreateModel(string name, ModelOptions options) => ModelRegistry.Create(name, options);

    /// <inheritdoc />
    /// <remarks>The task itself: its loss needs nothing of the model beyond its output.</remarks>
    public ITrainingTask ForModel(TappedModel<Tensor> model) => this;

    /// <inheritdoc />
    public IReadOnlyList<string> StudentTaps(TappedModel<Tensor> student) => [];

    /// <summary>The task with weight 1 and no label smoothing (what a run without a method trains on).</summary>
    public static ClassificationTask Default { get; } = new();

    /// <summary>The task a method trains with: its task-loss weight and label smoothing (this task's own without a method).</summary>
    public ClassificationTask For(Distiller? method) =>
        method is null || (method.TaskLossWeight == LossWeight && method.TaskLabelSmoothing == LabelSmoothing) ? this : new ClassificationTask(method.TaskLossWeight, method.TaskLabelSmoothing);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The targets are not class labels.</exception>
    public LossTerms Loss(Tensor outputs, IBatchTargets targets) => Loss(outputs, LabelsOf(targets));

    /// <summary>The weighted cross-entropy ("ce") of <paramref name="outputs"/> [B, K] against <paramref name="labels"/> [B].</summary>
    public LossTerms Loss(Tensor outputs, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(labels);
        var ce = LabelSmoothing == 0 ? F.CrossEntropy(outputs, labels) : F.CrossEntropy(outputs, labels, labelSmoothing: LabelSmoothing);

        // x * 1 is exact in IEEE arithmetic, value and gradient alike, so weight 1 skips the product.
        return new LossTerms().Add(LossTerm, LossWeight == 1 ? ce : ce * LossWeight);
    }

    /// <inheritdoc />
    /// <remarks>A method's task-loss weight and label smoothing replace this task's own.</remarks>
    public LossTerms StepLoss(Distiller? method, DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var terms = For(method).Loss(inputs.StudentLogits, inputs.Targets);
        return method is null ? terms : terms.AddRange(method.ComputeLoss(inputs));
    }

    /// <inheritdoc />
    /// <remarks>The count of samples whose largest logit is their label.</remarks>
    public Tensor PrimarySum(Tensor outputs, IBatchTargets targets)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        return outputs.ArgMax(1).Eq(LabelsOf(targets)).Sum();
    }

    /// <inheritdoc />
    /// <remarks>Data-parallel: the correct counts, the sample count and the confusion matrix are summed over the ranks.</remarks>
    public TaskEvaluation Evaluate(TappedModel<Tensor> model, DataLoader loader, bool breakdown = false, IProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(loader);
        using var top1 = Tensor.Zeros([], DType.Int64, loader.Device).DetachFromScope();
        using var top5 = Tensor.Zeros([], DType.Int64, loader.Device).DetachFromScope();
        ConfusionMatrix? confusion = null;
        long classes = 0;
        long total = 0;
        return EvaluationPass.Run(model, loader, (batch, logits) =>
        {
            classes = logits.Size(1);
            var predicted = logits.ArgMax(1);
            top1.AddInPlace(predicted.Eq(batch.Labels).Sum());
            if (classes >= 5)
            {
                top5.AddInPlace(logits.TopK(5, 1).Indices.Eq(batch.Labels.Unsqueeze(1)).Any(1).To(DType.Int64).Sum());
            }

            if (breakdown)
            {
                confusion ??= new ConfusionMatrix((int)classes, ignoreIndex: -1);
                confusion.Update(predicted, batch.Labels);
            }

            total += batch.Size;
        }, () =>
        {
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal) { [Top1] = Fraction(top1, total) };
            if (classes >= 5)
            {
                metrics[Top5] = Fraction(top5, total);
            }

            return new TaskEvaluation(total, metrics, Top1) { Breakdown = confusion?.PerClassAccuracy() ?? [], Confusion = confusion };
        }, group, g =>
        {
            // A rank whose shard is empty saw no logits: the class count is the largest any rank saw.
            classes = EvaluationPass.Max(g, classes);
            var counts = breakdown && classes > 0 ? confusion?.ToArray() ?? new long[classes * classes] : [];
            var sums = EvaluationPass.Sum(g, [top1.Item<long>(), top5.Item<long>(), total, .. counts]);
            top1.FillInPlace(sums[0]);
            top5.FillInPlace(sums[1]);
            total = sums[2];
            if (counts.Length > 0)
            {
                confusion = new ConfusionMatrix((int)classes, ignoreIndex: -1);
                confusion.Add(sums.AsSpan(3));
            }
        });
    }

    /// <inheritdoc />
    public string Describe(TaskEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        return string.Join(", ", evaluation.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"top-{m.Key[3..]} {m.Value:P2}")));
    }

    private static Tensor LabelsOf(IBatchTargets targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return targets is ClassLabelBatch labels ? labels.Labels
            : throw new ArgumentException($"the classification task trains on class labels; this batch carries {targets.Kind}", nameof(targets));
    }

    private static double Fraction(Tensor count, long total) => total == 0 ? 0 : (double)count.Item<long>() / total;
}
