using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// A method with an adversarial part (a discriminator) trained by its own optimizer on its own loss, beside the
/// student. <see cref="OwnParameters"/> are registered parameters of the method (so checkpoints keep them and
/// <c>To(device)</c> moves them), but they are kept out of the main optimizer and its parameter groups: only the
/// method's optimizer (<see cref="OwnOptimizer"/>) changes them.
/// <para>
/// One training step, in the order of the Structured KD official code (irfanICMLL/structure_knowledge_distillation,
/// <c>networks/kd_model.py</c> <c>optimize_parameters</c>: G zero_grad, G backward, G step, then D zero_grad, D backward,
/// D step): (1) the task's and the method's terms (<see cref="Distiller.ComputeLoss"/>, which may score the student
/// through the discriminator: gradients reach the discriminator too) are back-propagated, clipped when the recipe
/// asks, and the main optimizer steps the student and the method's other parameters; (2) the own parameters'
/// gradients are cleared (what step 1 left on them is dropped, as the official D_solver.zero_grad()); (3)
/// <see cref="ComputeOwnLoss"/> on the same step's inputs with the student side detached is back-propagated and the
/// own optimizer steps (no clipping); (4) a per-iteration schedule advances both optimizers. The own terms are
/// logged beside the others but are not part of the student's total. A method whose own part is switched off by its
/// options declares no own parameters and then has no own optimizer and no own step.
/// </para>
/// </summary>
public interface IHasOwnOptimizer
{
    /// <summary>The parameters only the method's own optimizer steps (each a registered parameter of the method).</summary>
    IReadOnlyList<Tensor> OwnParameters { get; }

    /// <summary>The own optimizer's settings (kind, rate, betas, ...), from the method's options.</summary>
    MethodOptimizerSettings OwnOptimizer { get; }

    /// <summary>
    /// The own loss of a step, weighted, as named terms (names distinct from the task's and <see cref="Distiller.ComputeLoss"/>'s):
    /// <paramref name="inputs"/> are the step's, with the student's logits and maps detached (and its head under no-grad).
    /// </summary>
    LossTerms ComputeOwnLoss(DistillationInputs inputs);
}
