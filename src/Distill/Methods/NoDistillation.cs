namespace Distill.Methods;

/// <summary>
/// The method "none": it adds no distillation term, so the student trains on its task's loss alone (a
/// teacher or a baseline student). It needs no teacher and has no parameters, buffers or options.
/// </summary>
public sealed class NoDistillation : Distiller
{
    /// <inheritdoc />
    public override string Name => MethodFactory.NoneName;

    /// <inheritdoc />
    public override bool NeedsTeacher => false;

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs) => new();
}
