using Distill.NN.Data;

namespace Distill.Engine.Reporting;

/// <summary>One test image with its ground truth and the models' predicted masks: a row of the example figure.</summary>
/// <param name="Input">The image as it was before normalisation (values in [0, 1]; grey or RGB).</param>
/// <param name="Truth">The ground-truth mask (255 = ignore).</param>
/// <param name="Teacher">The teacher's prediction (the arg-max class per pixel at the mask's size), or null without a teacher.</param>
/// <param name="Student">The student's prediction.</param>
public sealed record PredictionExample(Image Input, Mask Truth, Mask? Teacher, Mask Student);
