using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;

namespace Distill.Tests.Dense;

/// <summary>Segmentation steps and contexts for the dense method tests.</summary>
internal static class DenseSteps
{
    /// <summary>A context whose student and teacher publish the given tap shapes.</summary>
    public static MethodContext Context(Dictionary<string, long[]> student, Dictionary<string, long[]>? teacher) => new(student, teacher);

    /// <summary>A segmentation step: logit maps, masks of zeros [B, 2h, 2w], the taps by name.</summary>
    public static DistillationInputs Step(Tensor studentLogits, Tensor? teacherLogits, Dictionary<string, Tensor>? student = null, Dictionary<string, Tensor>? teacher = null, int epoch = 1)
    {
        var (b, h, w) = (studentLogits.Size(0), studentLogits.Size(2), studentLogits.Size(3));
        var studentMaps = new Dictionary<string, Tensor>(student ?? [], StringComparer.Ordinal) { ["logits"] = studentLogits };
        var teacherMaps = new Dictionary<string, Tensor>(teacher ?? [], StringComparer.Ordinal);
        if (teacherLogits is not null)
        {
            teacherMaps["logits"] = teacherLogits;
        }

        return new DistillationInputs(studentLogits, teacherLogits, new MaskBatch(Tensor.Zeros([b, 2 * h, 2 * w], DType.Int64)), Tensor.Zeros([b], DType.Int64),
            new FeatureMaps(studentMaps, "student"), new FeatureMaps(teacherMaps, "teacher"), epoch);
    }

    /// <summary>The hand-worked CWD example (N 1, C 2, 2 x 2): student channels [0,1,2,3], [1,1,1,1]; teacher [3,2,1,0], [0,0,0,2].</summary>
    public static (Tensor Student, Tensor Teacher) CwdExample() =>
        (Tensor.From([0f, 1, 2, 3, 1, 1, 1, 1], 1, 2, 2, 2), Tensor.From([3f, 2, 1, 0, 0, 0, 0, 2], 1, 2, 2, 2));

    /// <summary>The example's τ² / (N·C) Σ KL at τ = 4 (derived by hand in float64).</summary>
    public const double CwdExampleTau4 = 1.444643;
}
