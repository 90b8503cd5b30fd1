using Distill.Models;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>What a distiller sees at one step.</summary>
/// <param name="StudentLogits">Student logits [B, K] (recording gradients).</param>
/// <param name="TeacherLogits">Teacher logits [B, K] (no gradients), or null for teacher-free methods.</param>
/// <param name="Labels">Class labels [B].</param>
/// <param name="Indices">Data-set indices [B] (memory-bank methods).</param>
/// <param name="StudentFeatures">The student taps the distiller asked for.</param>
/// <param name="TeacherFeatures">The teacher taps the distiller asked for.</param>
/// <param name="Epoch">The 1-based epoch (as the spec's warm-ups count).</param>
public sealed record DistillationInputs(Tensor StudentLogits, Tensor? TeacherLogits, Tensor Labels, Tensor Indices,
    ModelTaps? StudentFeatures, ModelTaps? TeacherFeatures, int Epoch);
