namespace Distill.Methods;

/// <summary>
/// A method that compares one student tap with one teacher tap (FitNets, CWD, MGD): the two tap names, the
/// cross-entropy weight, and the taps it declares.
/// </summary>
public abstract class FeaturePairDistiller : Distiller
{
    /// <summary>Records the taps and the cross-entropy weight.</summary>
    protected FeaturePairDistiller(string studentTap, string teacherTap, double ceWeight)
    {
        ArgumentException.ThrowIfNullOrEmpty(studentTap);
        ArgumentException.ThrowIfNullOrEmpty(teacherTap);
        StudentTap = studentTap;
        TeacherTap = teacherTap;
        CeWeight = ceWeight;
    }

    /// <summary>The student tap.</summary>
    public string StudentTap { get; }

    /// <summary>The teacher tap.</summary>
    public string TeacherTap { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => [StudentTap];

    /// <inheritdoc />
    public override IReadOnlyList<string> TeacherTaps => [TeacherTap];

    /// <summary>
    /// The taps of a pair (given, or each network's last stage output in <paramref name="context"/>) with their
    /// shapes, each a feature map [B, C, H, W].
    /// </summary>
    /// <exception cref="ArgumentException">A network publishes no stages, or a tap is not a feature map.</exception>
    protected static (string StudentTap, long[] StudentShape, string TeacherTap, long[] TeacherShape) Pair(string studentTap, string teacherTap, MethodContext context, string method)
    {
        ArgumentNullException.ThrowIfNull(context);
        var st = FeatureOps.TapOrLastStage(studentTap, context.StudentStages, method);
        var tt = FeatureOps.TapOrLastStage(teacherTap, context.TeacherStages, method);
        return (st, FeatureOps.RequireMap(context.StudentShape(st), method, "student", st), tt, FeatureOps.RequireMap(context.TeacherShape(tt), method, "teacher", tt));
    }
}
