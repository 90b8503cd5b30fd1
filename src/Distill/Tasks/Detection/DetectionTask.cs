using System.Globalization;
using System.Runtime.CompilerServices;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.NN.Metrics.Detection;
using Distill.Torch;
using Distill.Torch.Distributed;

namespace Distill.Tasks.Detection;

/// <summary>
/// Object detection with FCOS: targets are boxes per image (<see cref="BoxBatch"/>), outputs the detector's
/// [B, L, K + 5] (class logits, l, t, r, b in strides, centerness logit over every location of every level). The loss
/// is FCOS's (<see cref="FcosLoss"/>): terms "focal" (sigmoid focal loss / positives), "box" (the centerness-weighted
/// IoU-type loss, GIoU by default) and "centerness" (BCE / positives), each weighted by the method's task-loss
/// weight. The metrics are COCO's box AP and AR with pycocotools' semantics (<see cref="CocoEvaluator"/>) over the
/// whole split after FCOS's inference (<see cref="FcosPostProcess"/>): "map" (AP@[.5:.95], the primary metric), "ap50",
/// "ap75", "aps"/"apm"/"apl" (by area) and "ar1"/"ar10"/"ar100"; categories are the contiguous labels. The loss needs
/// the detector's levels (strides and scale ranges): <see cref="ForModel"/> binds the task to a detector, which the
/// trainer does for its student.
/// </summary>
public sealed class DetectionTask : ITrainingTask
{
    /// <summary>The metric key of COCO AP@[.5:.95] (the primary metric).</summary>
    public const string MeanAp = "map";

    /// <summary>The classification term's name.</summary>
    public const string FocalTerm = "focal";

    /// <summary>The box regression term's name.</summary>
    public const string BoxTerm = "box";

    /// <summary>The centerness term's name.</summary>
    public const string CenternessTerm = "centerness";

    /// <summary>The metric keys beside <see cref="MeanAp"/>, in pycocotools' order of its 12 numbers.</summary>
    public static IReadOnlyList<string> MetricKeys { get; } = [MeanAp, "ap50", "ap75", "aps", "apm", "apl", "ar1", "ar10", "ar100", "ars", "arm", "arl"];

    // The assignment a batch's loss made, for the running training metric of the same step (one entry per live batch).
    private readonly ConditionalWeakTable<BoxBatch, FcosTargets> _assigned = new();
    private readonly FcosDetector? _model;
    private readonly FcosLevels? _levels;

    /// <summary>Creates the task.</summary>
    /// <param name="lossWeight">The weight of the three FCOS terms (a method's task-loss weight sets it).</param>
    /// <param name="loss">The focal parameters, IoU loss kind and centre-sampling radius.</param>
    /// <param name="inference">Thresholds and counts of the evaluation's inference.</param>
    public DetectionTask(double lossWeight = 1, FcosLossOptions? loss = null, FcosPostProcess? inference = null)
        : this(lossWeight, loss ?? new FcosLossOptions(), inference ?? new FcosPostProcess(), null, null)
    {
    }

    private DetectionTask(double lossWeight, FcosLossOptions loss, FcosPostProcess inference, FcosDetector? model, FcosLevels? levels)
    {
        if (!double.IsFinite(lossWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(lossWeight), lossWeight, "the task-loss weight must be finite");
        }

        LossWeight = lossWeight;
        LossOptions = loss;
        Inference = inference;
        _model = model;
        _levels = levels;
    }

    /// <summary>The task with weight 1 and the official loss and inference settings, bound to no detector.</summary>
    public static DetectionTask Default { get; } = new();

    /// <summary>The weight of the three FCOS terms.</summary>
    public double LossWeight { get; }

    /// <summary>The loss settings.</summary>
    public FcosLossOptions LossOptions { get; }

    /// <summary>The inference settings of the evaluation.</summary>
    public FcosPostProcess Inference { get; }

    /// <inheritdoc />
    public string Name => MethodDescriptor.Detection;

    /// <inheritdoc />
    public string PrimaryMetric => MeanAp;

    /// <inheritdoc />
    public string PrimaryMetricLabel => "mAP";

    /// <inheritdoc />
    /// <remarks>mAP needs the whole split: the running training metric is, per image, the share of its positive locations whose best class is the box's.</remarks>
    public string TrainMetricLabel => "pos. acc.";

    /// <inheritdoc />
    public IReadOnlyList<(string Name, string Description)> Models => [.. DetectionModels.Names];

    /// <inheritdoc />
    public TappedModel<Tensor> CreateModel(string name, ModelOptions options) => DetectionModels.Create(name, options);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The model is not a detector of this task.</exception>
    public ITrainingTask ForModel(TappedModel<Tensor> model) => ForDetector(Detector(model));

    /// <inheritdoc />
    public IReadOnlyList<string> StudentTaps(TappedModel<Tensor> student) => [];

    /// <summary>
    /// The task bound to fixed levels (one input size) instead of a detector: what `distill check` uses, where a file
    /// gives a detector's outputs without the network. The loss then takes outputs of exactly <paramref name="levels"/>' locations.
    /// </summary>
    public DetectionTask ForLevels(FcosLevels levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        return new DetectionTask(LossWeight, LossOptions, Inference, null, levels);
    }

    /// <summary>The task a method trains with: its task-loss weight (this task's own without a method).</summary>
    public DetectionTask For(Distiller? method) =>
        method is null || method.TaskLossWeight == LossWeight ? this : new DetectionTask(method.TaskLossWeight, LossOptions, Inference, _model, _levels);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The targets are not boxes, the output does not fit the detector's levels, or the task is bound to no detector.</exception>
    public LossTerms Loss(Tensor outputs, IBatchTargets targets) => Loss(outputs, targets, null);

    /// <summary>The three weighted FCOS terms; data-parallel, normalised by the job's positives and centerness sum (<see cref="FcosLoss"/>).</summary>
    /// <param name="outputs">The detector's output [B, L, K + 5].</param>
    /// <param name="targets">The batch's boxes.</param>
    /// <param name="group">The job's ranks (null: one process).</param>
    /// <exception cref="ArgumentException">The targets are not boxes, the output does not fit the detector's levels, or the task is bound to no detector.</exception>
    public LossTerms Loss(Tensor outputs, IBatchTargets targets, IProcessGroup? group)
    {
        var boxes = BoxesOf(targets);
        var levels = LevelsFor(outputs, boxes);
        var assigned = FcosTargets.Assign(boxes, levels, LossOptions.CenterSamplingRadius, outputs.Device);
        _assigned.AddOrUpdate(boxes, assigned);
        var losses = FcosLoss.Compute(outputs, assigned, LossOptions, group);

        // x * 1 is exact in IEEE arithmetic, value and gradient alike, so weight 1 skips the products.
        Tensor Weighted(Tensor t) => LossWeight == 1 ? t : t * LossWeight;
        return new LossTerms()
            .Add(FocalTerm, Weighted(losses.Classification))
            .Add(BoxTerm, Weighted(losses.Regression))
            .Add(CenternessTerm, Weighted(losses.Centerness));
    }

    /// <inheritdoc />
    public LossTerms StepLoss(Distiller? method, DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var terms = For(method).Loss(inputs.StudentLogits, inputs.Targets, inputs.ProcessGroup);
        return method is null ? terms : terms.AddRange(method.ComputeLoss(inputs));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Per image, the share of its positive locations whose highest class logit is the assigned box's class, summed over
    /// the batch (an image without positives adds 0). Uses the assignment the step's loss made for the same batch.
    /// </remarks>
    public Tensor PrimarySum(Tensor outputs, IBatchTargets targets)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var boxes = BoxesOf(targets);
        if (!_assigned.TryGetValue(boxes, out var assigned))
        {
            assigned = FcosTargets.Assign(boxes, LevelsFor(outputs, boxes), LossOptions.CenterSamplingRadius, outputs.Device);
        }

        var classes = outputs.Size(2) - 5;
        var positive = assigned.Labels > 0.0;
        var hits = outputs.Narrow(2, 0, classes).ArgMax(2).Eq(assigned.Labels - 1L).LogicalAnd(positive).Sum([1], dtype: DType.Float32);
        return (hits / positive.Sum([1], dtype: DType.Float32).ClampMin(1)).Sum();
    }

    /// <inheritdoc />
    /// <remarks>
    /// The breakdown is each category's AP@[.5:.95] (NaN for a category without ground truth), by label. Data-parallel: every
    /// rank's images (ground truth and detections) are gathered to every rank, which evaluates them all in the one-process
    /// order, since COCO's evaluation needs the whole split.
    /// </remarks>
    public TaskEvaluation Evaluate(TappedModel<Tensor> model, DataLoader loader, bool breakdown = false, IProcessGroup? group = null)
    {
        var detector = Detector(model);
        var evaluator = new CocoEvaluator(Enumerable.Range(0, detector.NumClasses));
        var sharded = group is { WorldSize: > 1 };
        var kept = new List<double>(); // data-parallel: this rank's images, encoded (see ImageRecord)
        long samples = 0;
        return EvaluationPass.Run(detector, loader, (batch, output) =>
        {
            var boxes = BoxesOf(batch.Targets);
            var levels = detector.Levels((int)batch.Images.Size(2), (int)batch.Images.Size(3));
            var detections = Inference.Detect(output, levels, boxes.ImageSizes);
            for (var i = 0; i < detections.Count; i++)
            {
                var record = ImageRecord.Of(boxes, i, detections[i], detector.NumClasses);
                if (sharded)
                {
                    record.AppendTo(kept);
                }
                else
                {
                    record.AddTo(evaluator, samples + i);
                }
            }

            samples += batch.Size;
        }, () =>
        {
            var summary = evaluator.Evaluate();
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var i = 0; i < MetricKeys.Count; i++)
            {
                metrics[MetricKeys[i]] = summary.Stats[i];
            }

            var perCategory = breakdown
                ? summary.PerCategory.OrderBy(c => c.CategoryId).Select(c => c.GroundTruths == 0 ? double.NaN : c.Ap).ToArray()
                : [];
            return new TaskEvaluation(samples, metrics, MeanAp) { Breakdown = perCategory };
        }, group, g =>
        {
            // Rank r evaluated positions r, r + W, ... of the loader: image p of one process is rank p mod W's image p / W.
            var ranks = EvaluationPass.Gather(g, [.. kept]).Select(ImageRecord.Decode).ToArray();
            samples = ranks.Sum(r => (long)r.Count);
            for (var p = 0; p < samples; p++)
            {
                ranks[p % ranks.Length][(int)(p / ranks.Length)].AddTo(evaluator, p);
            }
        });
    }

    /// <inheritdoc />
    /// <remarks>E.g. "mAP 41.20%, AP50 70.10%, AP75 43.00%" (COCO's AP@[.5:.95], AP at IoU 0.5 and 0.75).</remarks>
    public string Describe(TaskEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        return string.Create(CultureInfo.InvariantCulture,
            $"mAP {evaluation.Metrics[MeanAp]:P2}, AP50 {evaluation.Metrics["ap50"]:P2}, AP75 {evaluation.Metrics["ap75"]:P2}").Replace(" %", "%", StringComparison.Ordinal);
    }

    private DetectionTask ForDetector(FcosDetector detector) =>
        ReferenceEquals(detector, _model) ? this : new DetectionTask(LossWeight, LossOptions, Inference, detector, null);

    private FcosLevels LevelsFor(Tensor outputs, BoxBatch boxes)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (_levels is { } fixedLevels)
        {
            return outputs.Dim == 3 && outputs.Size(1) == fixedLevels.Count ? fixedLevels
                : throw new ArgumentException($"the detector's output {Tensor.FormatShape(outputs.Shape)} does not fit the levels {string.Join("/", fixedLevels.Names)} ({fixedLevels.Count} locations)");
        }

        var model = _model ?? throw new ArgumentException("the detection task's loss needs the detector's levels: bind it to the student with ForModel (the trainer does)");
        if (boxes.ImageSizes.Count == 0)
        {
            throw new ArgumentException("a detection batch without images has no input size");
        }

        // A batch holds images of one size (the loader does not pad), so the first image's size is the input's.
        var (height, width) = boxes.ImageSizes[0];
        var levels = model.Levels(height, width);
        if (outputs.Dim != 3 || outputs.Size(1) != levels.Count)
        {
            throw new ArgumentException($"the detector's output {Tensor.FormatShape(outputs.Shape)} does not fit its levels {string.Join("/", levels.Names)} for {height}x{width} inputs ({levels.Count} locations)");
        }

        return levels;
    }

    private static FcosDetector Detector(TappedModel<Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model as FcosDetector
            ?? throw new ArgumentException($"the detection task trains FCOS detectors; {model.GetType().Name} is not one", nameof(model));
    }

    private static BoxBatch BoxesOf(IBatchTargets targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return targets is BoxBatch boxes ? boxes
            : throw new ArgumentException($"the detection task trains on boxes; this batch carries {targets.Kind}", nameof(targets));
    }
}
