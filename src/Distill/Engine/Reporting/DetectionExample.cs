using Distill.NN.Data;

namespace Distill.Engine.Reporting;

/// <summary>One test image with its ground-truth boxes and the models' detections above the figure's score threshold: a row of the example figure.</summary>
/// <param name="Input">The image as it was before normalisation (values in [0, 1]; grey or RGB).</param>
/// <param name="Truth">The ground-truth boxes (crowd regions marked).</param>
/// <param name="Teacher">The teacher's detections, best first, or null without a teacher.</param>
/// <param name="Student">The student's detections, best first.</param>
public sealed record DetectionExample(Image Input, IReadOnlyList<DrawnBox> Truth, IReadOnlyList<DrawnBox>? Teacher, IReadOnlyList<DrawnBox> Student);
