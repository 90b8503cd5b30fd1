using Distill.Models;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Engine.Reporting;

/// <summary>
/// Runs the student (and the teacher) on the first test images and keeps, for each, the image before normalisation, its
/// ground truth and each model's predicted mask: the rows of <see cref="PredictionExamplesSection"/>. Predictions are the
/// arg-max class of the logit maps resized to the mask's size as <see cref="SegmentationTask"/> resizes them (bilinear,
/// the task's align_corners), in eval mode under inference mode; each model's mode is restored.
/// </summary>
public static class SegmentationExamples
{
    /// <summary>The figure's default number of rows.</summary>
    public const int DefaultCount = 4;

    /// <summary>The first <paramref name="count"/> images of <paramref name="loader"/> (its epoch 0 order) with their predictions.</summary>
    /// <param name="student">The student segmenter: logit maps [B, K, h, w].</param>
    /// <param name="teacher">The teacher segmenter, or null.</param>
    /// <param name="loader">Normalised test batches with masks.</param>
    /// <param name="mean">The per-channel mean the loader normalised with (one value per channel, or one for all).</param>
    /// <param name="std">The per-channel standard deviation it normalised with.</param>
    /// <param name="count">How many examples.</param>
    /// <param name="task">The task whose resizing of logits to the mask size the predictions follow (default: <see cref="SegmentationTask.Default"/>).</param>
    /// <exception cref="ArgumentException">The batches carry no masks, or mean/std do not fit the images' channels.</exception>
    public static IReadOnlyList<PredictionExample> Collect(TappedModel<Tensor> student, TappedModel<Tensor>? teacher, DataLoader loader,
        IReadOnlyList<double> mean, IReadOnlyList<double> std, int count = DefaultCount, SegmentationTask? task = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return ExampleBatches.Collect(loader, count, (batch, take) =>
        {
            if (batch.Targets is not MaskBatch masks)
            {
                throw new ArgumentException($"example predictions need masks; the loader's batches carry {batch.Targets.Kind}", nameof(loader));
            }

            var images = batch.Images.Narrow(0, 0, take);
            var truth = masks.Masks.Narrow(0, 0, take);
            var inputs = Denormalized(images, mean, std);
            var truths = ToMasks(truth);
            var studentMasks = Predict(student, images, truth.Size(1), truth.Size(2), task);
            var teacherMasks = teacher is null ? null : Predict(teacher, images, truth.Size(1), truth.Size(2), task);
            return Enumerable.Range(0, take).Select(i => new PredictionExample(inputs[i], truths[i], teacherMasks?[i], studentMasks[i])).ToArray();
        });
    }

    /// <summary>The given samples (images in [0, 1], not yet normalised, masks as targets) with their predictions, one forward per sample.</summary>
    /// <param name="student">The student segmenter.</param>
    /// <param name="teacher">The teacher segmenter, or null.</param>
    /// <param name="samples">The samples, e.g. the first few of a test set; their images may differ in size.</param>
    /// <param name="mean">The per-channel mean the models expect their inputs normalised with.</param>
    /// <param name="std">The per-channel standard deviation.</param>
    /// <param name="task">The task whose resizing of logits the predictions follow.</param>
    /// <exception cref="ArgumentException">A sample's target is not a mask, or mean/std do not fit its channels.</exception>
    public static IReadOnlyList<PredictionExample> Collect(TappedModel<Tensor> student, TappedModel<Tensor>? teacher, IReadOnlyList<Sample> samples,
        IReadOnlyList<double> mean, IReadOnlyList<double> std, SegmentationTask? task = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(samples);
        var examples = new List<PredictionExample>(samples.Count);
        foreach (var sample in samples)
        {
            if (sample.Target is not Mask truth)
            {
                throw new ArgumentException($"sample {sample.Index} is labelled with a {sample.Target.Kind}, not a mask; example predictions need masks", nameof(samples));
            }

            using var scope = DisposeScope.Enter();
            var image = sample.Image;
            var (m, s) = Statistics(mean, std, image.Channels);
            var normalisedImage = new Normalize([.. m.Select(v => (double)v)], [.. s.Select(v => (double)v)]).Apply(image, truth, Random.Shared).Image;
            var normalised = Tensor.From(normalisedImage.Data, 1, image.Channels, image.Height, image.Width);
            var studentMask = Predict(student, normalised, truth.Height, truth.Width, task)[0];
            var teacherMask = teacher is null ? null : Predict(teacher, normalised, truth.Height, truth.Width, task)[0];
            examples.Add(new PredictionExample(image, truth, teacherMask, studentMask));
        }

        return examples;
    }

    /// <summary>The arg-max class per pixel of <paramref name="model"/>'s logit maps for <paramref name="images"/>, at height x width.</summary>
    private static Mask[] Predict(TappedModel<Tensor> model, Tensor images, long height, long width, SegmentationTask? task)
    {
        var training = model.IsTraining;
        model.Eval();
        try
        {
            using var inference = Autograd.InferenceMode();
            var device = model.Parameters().FirstOrDefault()?.Device ?? images.Device;
            var logits = model.Forward(images.To(device));
            if (logits.Dim != 4 || logits.Size(0) != images.Size(0))
            {
                throw new ArgumentException($"{model.GetType().Name} returned {Tensor.FormatShape(logits.Shape)} for images {Tensor.FormatShape(images.Shape)}; a segmenter returns logit maps [B, K, h, w]");
            }

            if (logits.Size(1) > Mask.Ignore)
            {
                throw new ArgumentException($"{model.GetType().Name} predicts {logits.Size(1)} classes; masks hold at most {Mask.Ignore} (255 is the ignore label)");
            }

            if (logits.Size(2) != height || logits.Size(3) != width)
            {
                logits = F.Interpolate(logits, height, width, InterpolationMode.Bilinear, (task ?? SegmentationTask.Default).AlignCorners);
            }

            return ToMasks(logits.ArgMax(1));
        }
        finally
        {
            model.Train(training);
        }
    }

    /// <summary>Int64 [B, H, W] class indices as host masks.</summary>
    private static Mask[] ToMasks(Tensor labels)
    {
        var (b, h, w) = ((int)labels.Size(0), (int)labels.Size(1), (int)labels.Size(2));
        var values = labels.To(Device.Cpu).To(DType.UInt8).ToArray<byte>();
        return [.. Enumerable.Range(0, b).Select(i => new Mask(h, w, values[(i * h * w)..((i + 1) * h * w)]))];
    }

    /// <summary>Normalised images [B, C, H, W] back to [0, 1]: x · std + mean per channel.</summary>
    internal static Image[] Denormalized(Tensor images, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        var (b, c, h, w) = ((int)images.Size(0), (int)images.Size(1), (int)images.Size(2), (int)images.Size(3));
        var (m, s) = Statistics(mean, std, c);
        var values = images.To(Device.Cpu).To(DType.Float32).ToArray<float>();
        var plane = h * w;
        var result = new Image[b];
        for (var i = 0; i < b; i++)
        {
            var data = new float[c * plane];
            for (var ch = 0; ch < c; ch++)
            {
                for (var p = 0; p < plane; p++)
                {
                    data[(ch * plane) + p] = (values[(((i * c) + ch) * plane) + p] * s[ch]) + m[ch];
                }
            }

            result[i] = new Image(c, h, w, data);
        }

        return result;
    }

    /// <summary>Mean and std as float32 per channel (a single value serves every channel).</summary>
    private static (float[] Mean, float[] Std) Statistics(IReadOnlyList<double> mean, IReadOnlyList<double> std, int channels)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        float[] Expand(IReadOnlyList<double> v, string name) => v.Count == channels ? [.. v.Select(x => (float)x)]
            : v.Count == 1 ? [.. Enumerable.Repeat((float)v[0], channels)]
            : throw new ArgumentException($"{name} has {v.Count} values but the images have {channels} channels (give one per channel, or one for all)", name);
        return (Expand(mean, nameof(mean)), Expand(std, nameof(std)));
    }
}
