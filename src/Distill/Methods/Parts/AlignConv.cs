using Distill.NN;

namespace Distill.Methods;

/// <summary>
/// The align conv of the feature methods whose student and teacher maps differ in channels (CWD's
/// mmdetection-distiller form, MGD): a 1×1 conv with bias from the student's channels to the teacher's, PyTorch's
/// default init. Methods register it as "align" (state_dict keys align.weight, align.bias).
/// </summary>
public static class AlignConv
{
    /// <summary>The conv from <paramref name="studentChannels"/> to <paramref name="teacherChannels"/>, or null when they are equal (no alignment).</summary>
    public static Conv2d? Between(long studentChannels, long teacherChannels) =>
        studentChannels == teacherChannels ? null : new Conv2d(studentChannels, teacherChannels, 1);
}
