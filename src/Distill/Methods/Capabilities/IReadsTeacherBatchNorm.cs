namespace Distill.Methods;

/// <summary>
/// A method that reads the teacher's BatchNorm before a stage's ReLU (OFD's and matching's margins, taken from
/// <see cref="MethodContext.TeacherBatchNorm"/> when the method is built); `distill check` then reads those norms as
/// teacher.&lt;stage&gt;.bn.weight / .bias.
/// </summary>
public interface IReadsTeacherBatchNorm
{
    /// <summary>The stages whose teacher BN-before-ReLU the method reads, e.g. "stage1".</summary>
    IReadOnlyList<string> TeacherBatchNormStages { get; }
}
