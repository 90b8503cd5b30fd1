namespace Distill.Methods;

/// <summary>
/// A method that applies the networks' own classifiers to features (SDD's regions): the trainer then hands every
/// step the student's head (recording gradients) and the teacher's (under no-grad) as
/// <see cref="DistillationInputs.StudentHead"/> and <see cref="DistillationInputs.TeacherHead"/>, and
/// `distill check` reads them as student.head.weight / .bias and teacher.head.weight / .bias.
/// </summary>
public interface IUsesClassifierHeads
{
    /// <summary>The tap whose channels the classifiers take (both networks): it sizes the heads `distill check` expects.</summary>
    string HeadTap { get; }
}
