using System.Globalization;
using Distill.NN;

namespace Distill.Methods;

/// <summary>
/// A method that compares student taps with teacher taps pair by pair (FitNets, CWD, MGD): the list of tap pairs
/// (one today, five FPN levels for detection), the cross-entropy weight, and the taps it declares. With one pair
/// a method keeps its single-pair part names ("align", "regressor") and draw names ("mask"); with several each pair's
/// part is registered under an indexed name ("aligns.0", ...) and its draws are indexed ("mask.0", ...).
/// </summary>
public abstract class FeaturePairDistiller : Distiller
{
    private readonly string[] _studentTaps;
    private readonly string[] _teacherTaps;

    /// <summary>Records the tap pairs (at least one) and the cross-entropy weight.</summary>
    protected FeaturePairDistiller(IReadOnlyList<TapPair> pairs, double ceWeight)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfZero(pairs.Count);
        foreach (var pair in pairs)
        {
            ArgumentException.ThrowIfNullOrEmpty(pair.StudentTap);
            ArgumentException.ThrowIfNullOrEmpty(pair.TeacherTap);
        }

        _studentTaps = [.. pairs.Select(p => p.StudentTap)];
        _teacherTaps = [.. pairs.Select(p => p.TeacherTap)];
        CeWeight = ceWeight;
    }

    /// <summary>The number of (student, teacher) tap pairs.</summary>
    public int PairCount => _studentTaps.Length;

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The student's tap of each pair, in pair order.</summary>
    public override IReadOnlyList<string> StudentTaps => _studentTaps;

    /// <summary>The teacher's tap of each pair, in pair order.</summary>
    public override IReadOnlyList<string> TeacherTaps => _teacherTaps;

    /// <summary>
    /// The tap pairs a method's options name, with their shapes from <paramref name="context"/>, each a feature map
    /// [B, C, H, W]: the lists <paramref name="studentTaps"/> and <paramref name="teacherTaps"/> pair by pair when
    /// they are given (of equal length), else the one pair (<paramref name="studentTap"/>, <paramref name="teacherTap"/>);
    /// an empty tap is that network's last stage output.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length, a network publishes no stages, or a tap is not a feature map.</exception>
    protected static TapPair[] Pairs(IReadOnlyList<string> studentTaps, IReadOnlyList<string> teacherTaps, string studentTap, string teacherTap, MethodContext context, string method)
    {
        ArgumentNullException.ThrowIfNull(studentTaps);
        ArgumentNullException.ThrowIfNull(teacherTaps);
        ArgumentNullException.ThrowIfNull(context);
        if (studentTaps.Count == 0 && teacherTaps.Count == 0)
        {
            return [Pair(studentTap, teacherTap, context, method)];
        }

        if (studentTaps.Count != teacherTaps.Count)
        {
            throw new ArgumentException($"{method}: student_taps names {studentTaps.Count} taps and teacher_taps {teacherTaps.Count}; give one teacher tap per student tap");
        }

        return [.. studentTaps.Zip(teacherTaps, (s, t) => Pair(s, t, context, method))];
    }

    /// <summary>
    /// The taps a method's <c>fpn_levels</c> option selects: <paramref name="taps"/> when given or when the option is off,
    /// else every FPN level of the student (fpn.p3, ...; the teacher's taps have the same names).
    /// </summary>
    /// <exception cref="ArgumentException">The option is on, no taps are named and the student has no FPN levels.</exception>
    protected static IReadOnlyList<string> TapsOrFpnLevels(bool fpnLevels, IReadOnlyList<string> taps, MethodContext context, string method)
    {
        ArgumentNullException.ThrowIfNull(taps);
        ArgumentNullException.ThrowIfNull(context);
        return !fpnLevels || taps.Count > 0 ? taps
            : context.StudentFpnLevels is { Count: > 0 } levels ? levels
            : throw new ArgumentException($"{method}: fpn_levels is on, but the student publishes no FPN levels (taps fpn.p3, ...); name the maps with student_taps and teacher_taps");
    }

    /// <summary>
    /// Registers one part per pair (null: the pair has none): under <paramref name="name"/> when there is one pair
    /// (the single-pair state_dict keys), else as "<paramref name="listName"/>.i" for pair i.
    /// </summary>
    protected void RegisterPerPair(string name, string listName, IReadOnlyList<Module?> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 1)
        {
            if (parts[0] is { } part)
            {
                RegisterModule(name, part);
            }

            return;
        }

        if (parts.All(p => p is null))
        {
            return;
        }

        var dict = RegisterModule(listName, new ModuleDict());
        for (var i = 0; i < parts.Count; i++)
        {
            if (parts[i] is { } part)
            {
                dict.Add(i.ToString(CultureInfo.InvariantCulture), part);
            }
        }
    }

    /// <summary>The name of pair <paramref name="pair"/>'s draw <paramref name="name"/>: the name itself with one pair, "name.i" with several.</summary>
    protected string PairDrawName(string name, int pair) =>
        PairCount == 1 ? name : string.Create(CultureInfo.InvariantCulture, $"{name}.{pair}");

    private static TapPair Pair(string studentTap, string teacherTap, MethodContext context, string method)
    {
        var st = FeatureOps.TapOrLastStage(studentTap, context.StudentStages, method);
        var tt = FeatureOps.TapOrLastStage(teacherTap, context.TeacherStages, method);
        return new(st, FeatureOps.RequireMap(context.StudentShape(st), method, "student", st), tt, FeatureOps.RequireMap(context.TeacherShape(tt), method, "teacher", tt));
    }

    /// <summary>One (student, teacher) tap pair with the shapes [B, C, H, W] of its maps.</summary>
    /// <param name="StudentTap">The student's tap.</param>
    /// <param name="StudentShape">The student map's shape.</param>
    /// <param name="TeacherTap">The teacher's tap.</param>
    /// <param name="TeacherShape">The teacher map's shape.</param>
    protected sealed record TapPair(string StudentTap, long[] StudentShape, string TeacherTap, long[] TeacherShape);
}
