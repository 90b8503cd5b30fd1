using Distill.Models;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.Tasks.Detection;
using Distill.Torch;

namespace Distill.Engine.Reporting;

/// <summary>
/// Runs the student (and the teacher) detector on the first test images and keeps, for each, the image before
/// normalisation, its ground-truth boxes and each model's detections scoring at least <see cref="ScoreThreshold"/> after the
/// task's inference (<see cref="FcosPostProcess"/>): the rows of <see cref="DetectionExamplesSection"/>. Runs in eval mode
/// under inference mode and restores each model's mode.
/// </summary>
public static class DetectionExamples
{
    /// <summary>The lowest score a detection drawn in the figure has.</summary>
    public const double ScoreThreshold = 0.3;

    /// <summary>The first <paramref name="count"/> images of <paramref name="loader"/> (its epoch 0 order) with their detections.</summary>
    /// <param name="student">The student detector.</param>
    /// <param name="teacher">The teacher detector, or null.</param>
    /// <param name="loader">Normalised test batches with boxes.</param>
    /// <param name="mean">The per-channel mean the loader normalised with (one value per channel, or one for all).</param>
    /// <param name="std">The per-channel standard deviation it normalised with.</param>
    /// <param name="count">How many examples.</param>
    /// <param name="task">The task whose inference settings the detections follow (default: <see cref="DetectionTask.Default"/>).</param>
    /// <exception cref="ArgumentException">The batches carry no boxes, a model is not a detector, or mean/std do not fit the images' channels.</exception>
    public static IReadOnlyList<DetectionExample> Collect(TappedModel<Tensor> student, TappedModel<Tensor>? teacher, DataLoader loader,
        IReadOnlyList<double> mean, IReadOnlyList<double> std, int count = SegmentationExamples.DefaultCount, DetectionTask? task = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var inference = (task ?? DetectionTask.Default).Inference;
        return ExampleBatches.Collect(loader, count, (batch, take) =>
        {
            if (batch.Targets is not BoxBatch boxes)
            {
                throw new ArgumentException($"example detections need boxes; the loader's batches carry {batch.Targets.Kind}", nameof(loader));
            }

            var images = batch.Images.Narrow(0, 0, take);
            var inputs = SegmentationExamples.Denormalized(images, mean, std);
            var sizes = boxes.ImageSizes.Take(take).ToArray();
            var studentBoxes = Detect(student, images, sizes, inference);
            var teacherBoxes = teacher is null ? null : Detect(teacher, images, sizes, inference);
            return Enumerable.Range(0, take).Select(i => new DetectionExample(inputs[i], Truth(boxes, i), teacherBoxes?[i], studentBoxes[i])).ToArray();
        });
    }

    /// <summary>Image <paramref name="i"/>'s ground-truth boxes.</summary>
    private static DrawnBox[] Truth(BoxBatch boxes, int i)
    {
        var corners = boxes.Boxes[i].To(Device.Cpu).To(DType.Float64).ToArray<double>();
        var labels = boxes.Labels[i].To(Device.Cpu).ToArray<long>();
        var crowd = boxes.Crowd[i].To(Device.Cpu).ToArray<bool>();
        return [.. labels.Select((label, j) => new DrawnBox(corners[4 * j], corners[(4 * j) + 1], corners[(4 * j) + 2], corners[(4 * j) + 3], (int)label, double.NaN, crowd[j]))];
    }

    /// <summary>Each image's detections with scores of at least <see cref="ScoreThreshold"/>, best first.</summary>
    private static DrawnBox[][] Detect(TappedModel<Tensor> model, Tensor images, IReadOnlyList<(int Height, int Width)> sizes, FcosPostProcess inference)
    {
        if (model is not FcosDetector detector)
        {
            throw new ArgumentException($"{model.GetType().Name} is not a detector; example detections need one", nameof(model));
        }

        var training = detector.IsTraining;
        detector.Eval();
        try
        {
            using var mode = Autograd.InferenceMode();
            var device = detector.Parameters().FirstOrDefault()?.Device ?? images.Device;
            var output = detector.Forward(images.To(device));
            var levels = detector.Levels((int)images.Size(2), (int)images.Size(3));
            return [.. inference.Detect(output, levels, sizes).Select(d =>
            {
                var corners = d.Boxes.To(Device.Cpu).To(DType.Float64).ToArray<double>();
                var scores = d.Scores.To(Device.Cpu).To(DType.Float64).ToArray<double>();
                var labels = d.Labels.To(Device.Cpu).ToArray<long>();
                return Enumerable.Range(0, scores.Length).Where(j => scores[j] >= ScoreThreshold)
                    .Select(j => new DrawnBox(corners[4 * j], corners[(4 * j) + 1], corners[(4 * j) + 2], corners[(4 * j) + 3], (int)labels[j], scores[j])).ToArray();
            })];
        }
        finally
        {
            detector.Train(training);
        }
    }
}
