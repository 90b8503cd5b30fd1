using Distill.Models;
using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// What a method may learn about the networks before it builds its learnable parts: the shape of every
/// student and teacher tap (batch dimension included, any batch size), and the teacher's
/// batch-norm-before-ReLU affine parameters per stage (OFD and Matching Guided Distillation margins).
/// Built from two models by <see cref="FromModels"/>, or from the tensors of a `distill check` input file.
/// </summary>
public sealed class MethodContext
{
    private readonly IReadOnlyDictionary<string, long[]> _student;
    private readonly IReadOnlyDictionary<string, long[]>? _teacher;
    private readonly IReadOnlyList<(double[] Weight, double[] Bias)> _teacherBatchNorms;

    // Output shapes of every submodule by module path, when built from models: taps by raw module path.
    private IReadOnlyDictionary<string, long[]>? _studentModules;
    private IReadOnlyDictionary<string, long[]>? _teacherModules;

    /// <summary>A context from tap shapes (and, optionally, the teacher's BN weights and biases by stage).</summary>
    public MethodContext(IReadOnlyDictionary<string, long[]> studentTaps, IReadOnlyDictionary<string, long[]>? teacherTaps,
        IReadOnlyList<(double[] Weight, double[] Bias)>? teacherBatchNorms = null)
    {
        ArgumentNullException.ThrowIfNull(studentTaps);
        _student = studentTaps;
        _teacher = teacherTaps;
        _teacherBatchNorms = teacherBatchNorms ?? [];
    }

    /// <summary>The training set's label of every sample index (memory-bank methods such as CRD), or null.</summary>
    public IReadOnlyList<int>? DatasetLabels { get; init; }

    /// <summary>A context that knows nothing (enough for the logit methods).</summary>
    public static MethodContext Empty { get; } = new(new Dictionary<string, long[]>(), null);

    /// <summary>Whether a teacher is known.</summary>
    public bool HasTeacher => _teacher is not null;

    /// <summary>The student's stage taps in order ("stage1", "stage2", ...).</summary>
    public IReadOnlyList<string> StudentStages => Stages(_student);

    /// <summary>The teacher's stage taps in order.</summary>
    public IReadOnlyList<string> TeacherStages => _teacher is null ? [] : Stages(_teacher);

    /// <summary>The student's FPN level taps (those named fpn.p&lt;n&gt;: "fpn.p3", "fpn.p4", ...), lowest level first; empty when it has none.</summary>
    public IReadOnlyList<string> StudentFpnLevels =>
        [.. _student.Keys.Where(k => k.StartsWith("fpn.p", StringComparison.Ordinal) && int.TryParse(k.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)).OrderBy(k => int.Parse(k.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The shape of a student tap (a published name, or a module path when built from models).</summary>
    /// <exception cref="KeyNotFoundException">The tap is unknown; the message lists the known ones.</exception>
    public long[] StudentShape(string tap) => Lookup(_student, _studentModules, "student", tap);

    /// <summary>The shape of a teacher tap (a published name, or a module path when built from models).</summary>
    /// <exception cref="KeyNotFoundException">No teacher, or the tap is unknown.</exception>
    public long[] TeacherShape(string tap) =>
        _teacher is null ? throw new KeyNotFoundException($"no teacher: the tap '{tap}' has no shape") : Lookup(_teacher, _teacherModules, "teacher", tap);

    /// <summary>The teacher's BN-before-ReLU (γ, β) of stage <paramref name="stage"/> (0-based).</summary>
    /// <exception cref="KeyNotFoundException">The stage's BN is unknown.</exception>
    public (double[] Weight, double[] Bias) TeacherBatchNorm(int stage) =>
        stage >= 0 && stage < _teacherBatchNorms.Count
            ? _teacherBatchNorms[stage]
            : throw new KeyNotFoundException($"the teacher's BN before the ReLU of stage {stage + 1} is unknown ({_teacherBatchNorms.Count} stages known)");

    /// <summary>
    /// Dry-runs both models on one image of <paramref name="options"/>' channels, height and width (which need
    /// not be equal) for the tap shapes, and copies the teacher's BN-before-ReLU parameters (call after the
    /// teacher's weights are loaded). Any tapped model will do: a classifier, or a dense model whose outputs are
    /// not logits. The training set's labels by sample index go to <see cref="DatasetLabels"/> when the task has
    /// class labels (memory-bank methods); they stay null otherwise.
    /// </summary>
    /// <typeparam name="TOutput">What the models' forward returns.</typeparam>
    public static MethodContext FromModels<TOutput>(TappedModel<TOutput> student, TappedModel<TOutput>? teacher, ModelOptions options, IReadOnlyList<int>? datasetLabels = null)
        where TOutput : notnull
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(options);
        var studentTaps = Shapes(student, options);
        if (teacher is null)
        {
            return new MethodContext(studentTaps, null) { DatasetLabels = datasetLabels, _studentModules = Modules(student) };
        }

        var norms = new List<(double[], double[])>();
        using (DisposeScope.Enter())
        {
            foreach (var path in teacher.BnBeforeRelu)
            {
                if (teacher.GetSubmodule(path) is BatchNorm2d { Weight: { } weight, Bias: { } bias })
                {
                    norms.Add((weight.To(DType.Float64, Device.Cpu, copy: true).ToArray<double>(), bias.To(DType.Float64, Device.Cpu, copy: true).ToArray<double>()));
                }
            }
        }

        return new MethodContext(studentTaps, Shapes(teacher, options), norms) { DatasetLabels = datasetLabels, _studentModules = Modules(student), _teacherModules = Modules(teacher) };
    }

    private static Dictionary<string, long[]> Shapes<TOutput>(TappedModel<TOutput> model, ModelOptions options)
        where TOutput : notnull =>
        model.DryRun(options).ToDictionary(t => t.Tap, t => t.Shape, StringComparer.Ordinal);

    private static Dictionary<string, long[]> Modules<TOutput>(TappedModel<TOutput> model)
        where TOutput : notnull =>
        model.DryRunModuleShapes().ToDictionary(t => t.Path, t => t.Shape, StringComparer.Ordinal);

    // A stage is known from any of its taps ("stage2" or "stage2.preact": a check input may give only the pre-ReLU maps).
    private static string[] Stages(IReadOnlyDictionary<string, long[]> taps) =>
        taps.Keys.Select(k => k.Split('.')[0]).Where(k => k.StartsWith("stage", StringComparison.Ordinal)).Distinct()
            .OrderBy(k => int.TryParse(k.AsSpan(5), out var n) ? n : int.MaxValue).ToArray();

    private static long[] Lookup(IReadOnlyDictionary<string, long[]> taps, IReadOnlyDictionary<string, long[]>? modules, string side, string tap) =>
        taps.TryGetValue(tap, out var shape) ? shape
        : modules is null ? throw new KeyNotFoundException($"the {side} has no tap '{tap}' (taps: {string.Join(", ", taps.Keys)})")
        : modules.TryGetValue(tap, out shape) ? shape
        : throw new KeyNotFoundException(TapNames.Unknown($"the {side}", tap, taps.Keys, modules.Keys));
}
