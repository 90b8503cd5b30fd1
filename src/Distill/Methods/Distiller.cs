using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// A distillation method: declares the feature taps it reads on student and teacher, owns its learnable
/// parts as registered parameters and submodules (the trainer's optimizer includes them), and turns a
/// step's <see cref="DistillationInputs"/> into named, weighted <see cref="LossTerms"/>. What only some methods
/// need is a capability the method implements: <see cref="IUsesClassifierHeads"/>, <see cref="IUsesSampleIndices"/>,
/// <see cref="IReadsTeacherBatchNorm"/>, <see cref="ICalibratedMethod"/> and <see cref="IHasOwnOptimizer"/> (whose
/// parameters the main optimizer leaves out).
/// </summary>
public abstract class Distiller : Module
{
    private IReadOnlyDictionary<string, Tensor>? _drawOverrides;
    private Dictionary<string, Tensor>? _recordedDraws;

    /// <summary>The registry name, e.g. "kd".</summary>
    public abstract string Name { get; }

    /// <summary>Student taps the method reads (names from the model's taps).</summary>
    public virtual IReadOnlyList<string> StudentTaps => [];

    /// <summary>Teacher taps the method reads.</summary>
    public virtual IReadOnlyList<string> TeacherTaps => [];

    /// <summary>False for teacher-free methods: the trainer then neither loads nor runs a teacher.</summary>
    public virtual bool NeedsTeacher => true;

    /// <summary>
    /// The weight of the task's loss while this method trains (the task adds that term, not the method). A method's
    /// <c>ce_weight</c> option sets it, so recipes written when methods added the cross-entropy themselves keep
    /// their meaning; 1 unless the method says otherwise.
    /// </summary>
    public virtual double TaskLossWeight => 1;

    /// <summary>Label smoothing of the task's cross-entropy while this method trains (0 unless the method says otherwise).</summary>
    public virtual double TaskLabelSmoothing => 0;

    /// <summary>The random draws of a step, as "name [shape]" (e.g. "mask [B, C, 1, 1]"); `distill check` can fix them.</summary>
    public virtual IReadOnlyList<string> RandomDraws => [];

    /// <summary>
    /// Fixes random draws by name (the parity harness: values from `random.&lt;name&gt;`); null restores sampling.
    /// </summary>
    public void OverrideRandomDraws(IReadOnlyDictionary<string, Tensor>? draws) => _drawOverrides = draws;

    /// <summary>
    /// Starts keeping every draw the method makes (or is given), by name, so the parity harness can write them out
    /// for a PyTorch port to reuse; the tensors belong to the dispose scope current when they were drawn.
    /// </summary>
    public void RecordRandomDraws() => _recordedDraws = new Dictionary<string, Tensor>(StringComparer.Ordinal);

    /// <summary>The draws kept since <see cref="RecordRandomDraws"/> (empty when not recording).</summary>
    public IReadOnlyDictionary<string, Tensor> RecordedDraws => _recordedDraws ?? new Dictionary<string, Tensor>();

    /// <summary>Called before each epoch (1-based) of <paramref name="totalEpochs"/>: curricula, warm-ups.</summary>
    public virtual void OnEpochStart(int epoch, int totalEpochs)
    {
    }

    /// <summary>
    /// The step's weighted distillation terms only: the task's loss (classification: "ce") is not the method's; the
    /// trainer and `distill check` add it first (<see cref="Tasks.ClassificationTask.StepLoss"/>), weighted by
    /// <see cref="TaskLossWeight"/>. A method that adds nothing returns no term.
    /// </summary>
    public abstract LossTerms ComputeLoss(DistillationInputs inputs);

    /// <summary>The draw <paramref name="name"/>: the overriding tensor when one is set, else <paramref name="sample"/>().</summary>
    /// <exception cref="ArgumentException">An override has a shape other than <paramref name="shape"/>.</exception>
    protected Tensor Draw(string name, long[] shape, Func<Tensor> sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Tensor draw;
        if (_drawOverrides is null || !_drawOverrides.TryGetValue(name, out var value))
        {
            draw = sample();
        }
        else if (value.Shape.SequenceEqual(shape))
        {
            draw = value;
        }
        else
        {
            throw new ArgumentException($"random.{name} has shape {Tensor.FormatShape(value.Shape)}, expected {Tensor.FormatShape(shape)}", nameof(name));
        }

        if (_recordedDraws is not null)
        {
            _recordedDraws[name] = draw;
        }

        return draw;
    }

    /// <summary>
    /// The student and teacher logits a logit method compares: z-scored per row when
    /// <paramref name="standardize"/> (logit standardisation, docs/methods/kd.md), raw otherwise.
    /// </summary>
    /// <exception cref="InvalidOperationException">The step has no teacher logits.</exception>
    protected (Tensor Student, Tensor Teacher) CompareLogits(DistillationInputs inputs, bool standardize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var teacher = inputs.TeacherLogits ?? throw new InvalidOperationException($"{Name} needs teacher logits");
        return standardize
            ? (LogitStandardization.Standardize(inputs.StudentLogits), LogitStandardization.Standardize(teacher))
            : (inputs.StudentLogits, teacher);
    }
}
