using Distill.NN.Data;
using Distill.NN.Metrics.Detection;
using Distill.Torch;

namespace Distill.Tasks.Detection;

/// <summary>
/// One evaluated image on the host: its ground truth (x1, y1, x2, y2, label, area, crowd: 7 values a box) and its
/// detections (x1, y1, x2, y2, score, label: 6 values a detection) as doubles, which is what the COCO evaluator receives
/// and what data-parallel evaluation sends between ranks (encoded as [boxes, detections, box values..., detection values...]).
/// </summary>
internal sealed record ImageRecord(double[] GroundTruth, double[] Detections)
{
    private const int GroundTruthWidth = 7;
    private const int DetectionWidth = 6;

    /// <summary>Image <paramref name="image"/> of a batch with its detections.</summary>
    /// <exception cref="InvalidDataException">A box's class is outside the detector's classes.</exception>
    public static ImageRecord Of(BoxBatch boxes, int image, FcosDetections detections, int classes)
    {
        var corners = boxes.Boxes[image].To(DType.Float64).ToArray<double>();
        var labels = boxes.Labels[image].ToArray<long>();
        var crowd = boxes.Crowd[image].ToArray<bool>();
        var areas = boxes.Areas[image].To(DType.Float64).ToArray<double>();
        var truth = new double[labels.Length * GroundTruthWidth];
        for (var j = 0; j < labels.Length; j++)
        {
            if (labels[j] < 0 || labels[j] >= classes)
            {
                throw new InvalidDataException($"image {image} of a batch has a box of class {labels[j]}, but the detector knows {classes} classes");
            }

            corners.AsSpan(4 * j, 4).CopyTo(truth.AsSpan(j * GroundTruthWidth));
            truth[(j * GroundTruthWidth) + 4] = labels[j];
            truth[(j * GroundTruthWidth) + 5] = areas[j];
            truth[(j * GroundTruthWidth) + 6] = crowd[j] ? 1 : 0;
        }

        var detected = detections.Boxes.To(DType.Float64).ToArray<double>();
        var scores = detections.Scores.To(DType.Float64).ToArray<double>();
        var classOf = detections.Labels.ToArray<long>();
        var found = new double[scores.Length * DetectionWidth];
        for (var j = 0; j < scores.Length; j++)
        {
            detected.AsSpan(4 * j, 4).CopyTo(found.AsSpan(j * DetectionWidth));
            found[(j * DetectionWidth) + 4] = scores[j];
            found[(j * DetectionWidth) + 5] = classOf[j];
        }

        return new ImageRecord(truth, found);
    }

    /// <summary>The records a rank encoded one after another with <see cref="AppendTo"/>.</summary>
    public static List<ImageRecord> Decode(double[] values)
    {
        var records = new List<ImageRecord>();
        var at = 0;
        while (at < values.Length)
        {
            var (boxes, found) = ((int)values[at], (int)values[at + 1]);
            at += 2;
            var truth = values[at..(at + (boxes * GroundTruthWidth))];
            at += truth.Length;
            var detections = values[at..(at + (found * DetectionWidth))];
            at += detections.Length;
            records.Add(new ImageRecord(truth, detections));
        }

        return records;
    }

    /// <summary>Appends the encoded record.</summary>
    public void AppendTo(List<double> values)
    {
        values.Add(GroundTruth.Length / GroundTruthWidth);
        values.Add(Detections.Length / DetectionWidth);
        values.AddRange(GroundTruth);
        values.AddRange(Detections);
    }

    /// <summary>Adds the image as <paramref name="imageId"/> with its ground truth and detections.</summary>
    public void AddTo(CocoEvaluator evaluator, long imageId)
    {
        var truth = new CocoGroundTruth[GroundTruth.Length / GroundTruthWidth];
        for (var j = 0; j < truth.Length; j++)
        {
            var v = GroundTruth.AsSpan(j * GroundTruthWidth, GroundTruthWidth);
            truth[j] = new CocoGroundTruth(CocoBox.FromCorners(v[0], v[1], v[2], v[3]), (int)v[4], v[5], v[6] != 0);
        }

        var found = new CocoDetection[Detections.Length / DetectionWidth];
        for (var j = 0; j < found.Length; j++)
        {
            var v = Detections.AsSpan(j * DetectionWidth, DetectionWidth);
            found[j] = new CocoDetection(imageId, CocoBox.FromCorners(v[0], v[1], v[2], v[3]), v[4], (int)v[5]);
        }

        evaluator.AddImage(imageId, truth);
        evaluator.AddDetections(found);
    }
}
