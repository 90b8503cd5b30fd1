using System.Globalization;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Segmentation;
using Distill.NN.Data;
using Distill.Torch;
using Distill.Torch.Distributed;
using F = Distill.Torch.Functional;

namespace Distill.Tasks;

/// <summary>
/// Semantic segmentation: targets are masks [B, H, W] (<see cref="MaskBatch"/>, ignore index
/// <see cref="Mask.Ignore"/>), outputs are logit maps [B, K, h, w]. The loss is pixel cross-entropy (term "ce") averaged
/// over the non-ignored pixels, as PyTorch's <c>F.cross_entropy(ignore_index=255)</c> which SKD, TorchDistiller and CIRKD
/// use (mmseg 0.x averages over all pixels instead); logit maps of another size are first resized bilinearly to the mask
/// size, with <c>align_corners=True</c> by default as SKD/TorchDistiller's <c>F.upsample</c> (mmseg: false).
/// The metrics come from a K x K confusion matrix accumulated on the device over the whole split: mIoU (mean over the
/// classes present in ground truth or prediction, as mmseg's nanmean), pixel accuracy and the count of classes used.
/// </summary>
/// <remarks>
/// A model with an auxiliary head publishes its logits as the tap <see cref="SegmentationModel.AuxLogitsTap"/>; the task asks
/// the trainer to record it (<see cref="StudentTaps"/>) and adds <see cref="AuxiliaryWeight"/> · its pixel cross-entropy
/// (term "aux_ce") after the main term.
/// </remarks>
public sealed class SegmentationTask : ITrainingTask
{
    /// <summary>The metric key of the mean IoU (the primary metric).</summary>
    public const string MeanIoU = "miou";

    /// <summary>The metric key of the pixel accuracy.</summary>
    public const string PixelAccuracy = "pixel_acc";

    /// <summary>The metric key of the count of classes the mean IoU averaged over.</summary>
    public const string ClassesUsed = "classes";

    /// <summary>The main loss term's name in logs and parity checks.</summary>
    public const string LossTerm = "ce";

    /// <summary>The auxiliary head's loss term name.</summary>
    public const string AuxiliaryTerm = "aux_ce";

    /// <summary>The auxiliary head's weight in the official code (SKD, CWD, mmseg's <c>FCNHead</c>).</summary>
    public const double DefaultAuxiliaryWeight = 0.4;

    /// <summary>Creates the task.</summary>
    /// <param name="lossWeight">The main cross-entropy's weight (a method's task-loss weight sets it).</param>
    /// <param name="alignCorners">Bilinear resizing of logits to the mask size with align_corners (SKD) or without (mmseg).</param>
    /// <param name="auxiliaryWeight">The auxiliary head's weight.</param>
    public SegmentationTask(double lossWeight = 1, bool alignCorners = true, double auxiliaryWeight = DefaultAuxiliaryWeight)
    {
        if (!double.IsFinite(lossWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(lossWeight), lossWeight, "the task-loss weight must be finite");
        }

        if (!double.IsFinite(auxiliaryWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(auxiliaryWeight), auxiliaryWeight, "the auxiliary weight must be finite");
        }

        LossWeight = lossWeight;
        AlignCorners = alignCorners;
        AuxiliaryWeight = auxiliaryWeight;
    }

    /// <summary>The task with weight 1, align_corners and aux weight 0.4.</summary>
    public static SegmentationTask Default { get; } = new();

    /// <summary>The main cross-entropy's weight.</summary>
    public double LossWeight { get; }

    /// <summary>Whether logits are resized with align_corners.</summary>
    public bool AlignCorners { get; }

    /// <summary>The auxiliary head's weight.</summary>
    public double AuxiliaryWeight { get; }

    /// <inheritdoc />
    public string Name => "segmentation";

    /// <inheritdoc />
    public string PrimaryMetric => MeanIoU;

    /// <inheritdoc />
    public string PrimaryMetricLabel => "mIoU";

    /// <inheritdoc />
    /// <remarks>mIoU is not a sum over samples: the running training metric is each image's pixel accuracy (<see cref="PrimarySum"/>).</remarks>
    public string TrainMetricLabel => "pixel acc.";

    /// <inheritdoc />
    public IReadOnlyList<(string Name, string Description)> Models => [.. SegmentationModels.Names];

    /// <inheritdoc />
    public TappedModel<Tensor> CreateModel(string name, ModelOptions options) => SegmentationModels.Create(name, options);

    /// <inheritdoc />
    /// <remarks>The task itself: its loss needs nothing of the model beyond its output.</remarks>
    public ITrainingTask ForModel(TappedModel<Tensor> model) => this;

    /// <inheritdoc />
    /// <remarks>The auxiliary logits when the model publishes them and <see cref="AuxiliaryWeight"/> is not 0.</remarks>
    public IReadOnlyList<string> StudentTaps(TappedModel<Tensor> student)
    {
        ArgumentNullException.ThrowIfNull(student);
        return AuxiliaryWeight != 0 && student.Taps.Any(t => t.Name == SegmentationModel.AuxLogitsTap) ? [SegmentationModel.AuxLogitsTap] : [];
    }

    /// <summary>The task a method trains with: its task-loss weight (this task's own without a method).</summary>
    public SegmentationTask For(Distiller? method) =>
        method is null || method.TaskLossWeight == LossWeight ? this : new SegmentationTask(method.TaskLossWeight, AlignCorners, AuxiliaryWeight);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The targets are not masks, or the logits are not [B, K, h, w] of the masks' batch.</exception>
    public LossTerms Loss(Tensor outputs, IBatchTargets targets) => Loss(outputs, MasksOf(targets));

    /// <summary>The weighted pixel cross-entropy ("ce") of logit maps <paramref name="outputs"/> [B, K, h, w] against <paramref name="masks"/> [B, H, W].</summary>
    public LossTerms Loss(Tensor outputs, Tensor masks)
    {
        var ce = PixelCrossEntropy(outputs, masks);

        // x * 1 is exact in IEEE arithmetic, value and gradient alike, so weight 1 skips the product.
        return new LossTerms().Add(LossTerm, LossWeight == 1 ? ce : ce * LossWeight);
    }

    /// <summary>Adds the auxiliary head's term ("aux_ce", <see cref="AuxiliaryWeight"/> · pixel CE of <paramref name="auxLogits"/>) to <paramref name="terms"/>.</summary>
    public LossTerms AuxiliaryLoss(LossTerms terms, Tensor auxLogits, Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(terms);
        return terms.Add(AuxiliaryTerm, PixelCrossEntropy(auxLogits, masks) * AuxiliaryWeight);
    }

    /// <summary>
    /// Mean cross-entropy over the non-ignored pixels of <paramref name="masks"/> [B, H, W] (label 255 ignored), the logit
    /// maps [B, K, h, w] resized bilinearly to H x W first when their size differs.
    /// </summary>
    public Tensor PixelCrossEntropy(Tensor logits, Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(masks);
        return F.CrossEntropy(Upsampled(logits, masks), masks, ignoreIndex: Mask.Ignore);
    }

    /// <inheritdoc />
    public LossTerms StepLoss(Distiller? method, DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var terms = For(method).Loss(inputs.StudentLogits, inputs.Targets);
        if (AuxiliaryWeight != 0 && inputs.StudentFeatures is { } maps && maps.Names.Contains(SegmentationModel.AuxLogitsTap, StringComparer.Ordinal))
        {
            AuxiliaryLoss(terms, maps[SegmentationModel.AuxLogitsTap], MasksOf(inputs.Targets));
        }

        return method is null ? terms : terms.AddRange(method.ComputeLoss(inputs));
    }

    /// <inheritdoc />
    /// <remarks>
    /// mIoU is not a sum over samples, so the trainer's running training metric is each image's pixel accuracy over its
    /// non-ignored pixels, summed over the batch (an image with every pixel ignored adds 0).
    /// </remarks>
    public Tensor PrimarySum(Tensor outputs, IBatchTargets targets)
    {
        var masks = MasksOf(targets);
        var valid = masks.Ne(Mask.Ignore);
        var hits = Upsampled(outputs, masks).ArgMax(1).Eq(masks).LogicalAnd(valid).Sum([1, 2], dtype: DType.Float32);
        return (hits / valid.Sum([1, 2], dtype: DType.Float32).ClampMin(1)).Sum();
    }

    /// <summary>
    /// Adds a batch to a flat K·K confusion matrix <paramref name="counts"/> (Int64 on the device, row = truth, column =
    /// prediction) as a bincount of truth·K + prediction over the non-ignored pixels, without a host copy.
    /// </summary>
    /// <param name="counts">Int64 [K·K].</param>
    /// <param name="predictions">Class indices, same shape as <paramref name="masks"/>.</param>
    /// <param name="masks">Labels in [0, K) or 255.</param>
    /// <returns>Int64 scalar: how many non-ignored labels were outside [0, K) (they are not counted).</returns>
    public static Tensor AccumulateConfusion(Tensor counts, Tensor predictions, Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(masks);
        var k = (long)Math.Round(Math.Sqrt(counts.NumberOfElements));
        var labels = masks.To(DType.Int64);
        var notIgnored = labels.Ne(Mask.Ignore);
        var inRange = (labels > -1).LogicalAnd(labels < k);
        var valid = notIgnored.LogicalAnd(inRange);
        var index = ((labels * k) + predictions.To(DType.Int64)).MaskedSelect(valid);
        counts.AddInPlace(Tensor.Zeros([k * k], DType.Int64, counts.Device).ScatterAdd(0, index, index.OnesLike()));
        return notIgnored.LogicalAnd(inRange.LogicalNot()).Sum(DType.Int64);
    }

    /// <summary>The metrics of a K x K confusion matrix (row = truth): mIoU over classes present, pixel accuracy, classes used.</summary>
    /// <param name="confusion">The counts, row-major, K·K values.</param>
    /// <param name="classes">K.</param>
    /// <returns>The metrics and the per-class IoU (NaN for a class absent from truth and prediction).</returns>
    public static (Dictionary<string, double> Metrics, double[] PerClassIoU) Metrics(IReadOnlyList<long> confusion, int classes)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        if (confusion.Count != (long)classes * classes)
        {
            throw new ArgumentException($"a confusion matrix of {classes} classes has {classes * classes} counts, not {confusion.Count}", nameof(confusion));
        }

        var iou = new double[classes];
        long correct = 0, total = 0;
        double sum = 0;
        var used = 0;
        for (var c = 0; c < classes; c++)
        {
            long row = 0, column = 0;
            for (var j = 0; j < classes; j++)
            {
                row += confusion[(c * classes) + j];
                column += confusion[(j * classes) + c];
            }

            var tp = confusion[(c * classes) + c];
            var union = row + column - tp;
            correct += tp;
            total += row;
            iou[c] = union == 0 ? double.NaN : (double)tp / union;
            if (union != 0)
            {
                sum += iou[c];
                used++;
            }
        }

        return (new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MeanIoU] = used == 0 ? 0 : sum / used,
            [PixelAccuracy] = total == 0 ? 0 : (double)correct / total,
            [ClassesUsed] = used,
        }, iou);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">A label is neither a class of the model's outputs nor 255.</exception>
    public TaskEvaluation Evaluate(TappedModel<Tensor> model, DataLoader loader, bool breakdown = false, IProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(loader);
        Tensor? counts = null;
        using var outOfRange = Tensor.Zeros([], DType.Int64, loader.Device).DetachFromScope();
        long classes = 0;
        long samples = 0;
        try
        {
            return EvaluationPass.Run(model, loader, (batch, logits) =>
            {
                var masks = MasksOf(batch.Targets);
                classes = logits.Size(1);
                counts ??= Tensor.Zeros([classes * classes], DType.Int64, loader.Device).DetachFromScope();
                outOfRange.AddInPlace(AccumulateConfusion(counts, Upsampled(logits, masks).ArgMax(1), masks));
                samples += batch.Size;
            }, () =>
            {
                var bad = outOfRange.Item<long>();
                if (bad != 0)
                {
                    throw new InvalidDataException($"{bad} pixel label(s) are neither one of the model's {classes} classes nor {Mask.Ignore} (ignore)");
                }

                var (metrics, iou) = Metrics(counts is null ? [] : counts.ToArray<long>(), (int)classes);
                return new TaskEvaluation(samples, metrics, MeanIoU) { Breakdown = breakdown ? iou : [] };
            }, group, g =>
            {
                // The confusion matrices, the out-of-range pixels and the image counts are summed over the ranks (a rank
                // with an empty shard has no matrix yet: the class count is the largest any rank saw).
                classes = EvaluationPass.Max(g, classes);
                counts ??= classes == 0 ? null : Tensor.Zeros([classes * classes], DType.Int64, loader.Device).DetachFromScope();
                using var sampleCount = Tensor.From(new[] { samples }, 1).To(loader.Device);
                g.AllReduce(counts is null ? [outOfRange, sampleCount] : [counts, outOfRange, sampleCount]);
                samples = sampleCount.To(Device.Cpu).ToArray<long>()[0];
            });
        }
        finally
        {
            counts?.Dispose();
        }
    }

    /// <inheritdoc />
    /// <remarks>E.g. "mIoU 61.20%, pixel accuracy 93.10%".</remarks>
    public string Describe(TaskEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        return string.Create(CultureInfo.InvariantCulture,
            $"mIoU {evaluation.Metrics[MeanIoU]:P2}, pixel accuracy {evaluation.Metrics[PixelAccuracy]:P2}").Replace(" %", "%", StringComparison.Ordinal);
    }

    private Tensor Upsampled(Tensor logits, Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Dim != 4 || masks.Dim != 3 || logits.Size(0) != masks.Size(0))
        {
            throw new ArgumentException($"segmentation logits {Tensor.FormatShape(logits.Shape)} must be [B, K, h, w] for masks {Tensor.FormatShape(masks.Shape)} [B, H, W]");
        }

        return logits.Size(2) == masks.Size(1) && logits.Size(3) == masks.Size(2) ? logits
            : F.Interpolate(logits, masks.Size(1), masks.Size(2), InterpolationMode.Bilinear, AlignCorners);
    }

    private static Tensor MasksOf(IBatchTargets targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return targets is MaskBatch masks ? masks.Masks
            : throw new ArgumentException($"the segmentation task trains on masks; this batch carries {targets.Kind}", nameof(targets));
    }
}
