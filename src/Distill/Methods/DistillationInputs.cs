using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>What a distiller sees at one step.</summary>
/// <param name="StudentLogits">Student logits [B, K], or logit maps [B, K, h, w] for segmentation (recording gradients).</param>
/// <param name="TeacherLogits">Teacher logits of the student's shape (no gradients), or null for teacher-free methods.</param>
/// <param name="Targets">The batch's targets (<see cref="ClassLabelBatch"/> for classification, <see cref="MaskBatch"/>, ...).</param>
/// <param name="Indices">Data-set indices [B] (memory-bank methods).</param>
/// <param name="StudentFeatures">The student taps the distiller asked for.</param>
/// <param name="TeacherFeatures">The teacher taps the distiller asked for.</param>
/// <param name="Epoch">The 1-based epoch (as the spec's warm-ups count).</param>
public sealed record DistillationInputs(Tensor StudentLogits, Tensor? TeacherLogits, IBatchTargets Targets, Tensor Indices,
    IFeatureMaps? StudentFeatures, IFeatureMaps? TeacherFeatures, int Epoch)
{
    /// <summary>A classification step: the targets are <paramref name="labels"/> [B].</summary>
    /// <param name="studentLogits">Student logits [B, K] (recording gradients).</param>
    /// <param name="teacherLogits">Teacher logits [B, K] (no gradients), or null for teacher-free methods.</param>
    /// <param name="labels">Class labels [B].</param>
    /// <param name="indices">Data-set indices [B] (memory-bank methods).</param>
    /// <param name="studentFeatures">The student taps the distiller asked for.</param>
    /// <param name="teacherFeatures">The teacher taps the distiller asked for.</param>
    /// <param name="epoch">The 1-based epoch.</param>
    public DistillationInputs(Tensor studentLogits, Tensor? teacherLogits, Tensor labels, Tensor indices,
        IFeatureMaps? studentFeatures, IFeatureMaps? teacherFeatures, int epoch)
        : this(studentLogits, teacherLogits, new ClassLabelBatch(labels), indices, studentFeatures, teacherFeatures, epoch)
    {
    }

    /// <summary>The class labels [B] of a classification step (what the logit methods read).</summary>
    /// <exception cref="InvalidOperationException">The step's targets are not class labels.</exception>
    public Tensor Labels => Targets is ClassLabelBatch labels ? labels.Labels
        : throw new InvalidOperationException($"this step carries {Targets.Kind}, not class labels");

    /// <summary>The 1-based iteration of the whole run (the trainer's step count; warm-ups in iterations), 0 when not known.</summary>
    public int Iteration { get; init; }

    /// <summary>
    /// The data-parallel job this step is one rank's share of (null: one process, or a job of one rank). A method or task
    /// whose state or normalisers span the batch combines them over the ranks through it (the same collectives in the same
    /// order on every rank), so the step is the one process would make with the whole batch.
    /// </summary>
    public Torch.Distributed.IProcessGroup? ProcessGroup { get; init; }

    /// <summary>The student's own classifier applied to [.., C] features (recording gradients); SDD's regions.</summary>
    public Func<Tensor, Tensor>? StudentHead { get; init; }

    /// <summary>The teacher's classifier applied to [.., C] features (under no-grad).</summary>
    public Func<Tensor, Tensor>? TeacherHead { get; init; }

    /// <summary>The student tap <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No student features were recorded.</exception>
    public Tensor Student(string name) =>
        (StudentFeatures ?? throw new InvalidOperationException($"the step has no student feature maps (wanted '{name}')"))[name];

    /// <summary>The teacher tap <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No teacher features were recorded.</exception>
    public Tensor Teacher(string name) =>
        (TeacherFeatures ?? throw new InvalidOperationException($"the step has no teacher feature maps (wanted '{name}')"))[name];

    /// <summary>
    /// The same step with the student side out of the graph: logits and maps detached, the head run under no-grad
    /// (what a method's own loss reads, <see cref="IHasOwnOptimizer.ComputeOwnLoss"/>).
    /// </summary>
    public DistillationInputs DetachStudent() => this with
    {
        StudentLogits = StudentLogits.Detach(),
        StudentFeatures = StudentFeatures is null ? null : new DetachedMaps(StudentFeatures),
        StudentHead = StudentHead is { } head ? x =>
        {
            using var noGrad = Autograd.NoGrad();
            return head(x);
        } : null,
    };

    /// <summary>Feature maps read through <see cref="Tensor.Detach"/>.</summary>
    private sealed class DetachedMaps(IFeatureMaps maps) : IFeatureMaps
    {
        public IEnumerable<string> Names => maps.Names;

        public Tensor this[string name] => maps[name].Detach();
    }
}
