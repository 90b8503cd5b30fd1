using Distill.Models.Detection;
using Distill.NN.Detection;
using Distill.Torch;

namespace Distill.Tasks.Detection;

/// <summary>
/// FCOS inference on the network's output [B, L, K + 5]: per level, class probabilities p = sigmoid(logit) and
/// centerness c = sigmoid(centerness logit); the (location, class) pairs with p &gt; the threshold, at most
/// <see cref="PreNmsTopK"/> per level by p x c; boxes (x - l s, y - t s, x + r s, y + b s) with s the level's stride,
/// clipped to the image (continuous coordinates: x to [0, W], y to [0, H]); score sqrt(p x c); then over all levels
/// class-wise NMS and the best <see cref="DetectionsPerImage"/> by score. Differences to the official code: the last
/// cut keeps exactly that many (the official one keeps every tie of the last score) and clipping uses W and H rather
/// than W - 1 and H - 1.
/// </summary>
public sealed record FcosPostProcess
{
    /// <summary>The class-probability threshold of a candidate (0.05).</summary>
    public double ScoreThreshold { get; init; } = 0.05;

    /// <summary>Candidates kept per level and image (1000).</summary>
    public int PreNmsTopK { get; init; } = 1000;

    /// <summary>The class-wise NMS IoU threshold (0.6).</summary>
    public double NmsThreshold { get; init; } = 0.6;

    /// <summary>Detections kept per image (100).</summary>
    public int DetectionsPerImage { get; init; } = 100;

    /// <summary>Detects the objects of every image of the batch.</summary>
    /// <param name="output">The network's output [B, L, K + 5] (read without gradient).</param>
    /// <param name="levels">The network's levels for the batch's input size.</param>
    /// <param name="imageSizes">Per image (height, width) to clip to; the levels' input size when null.</param>
    /// <exception cref="ArgumentException">An output that is not [B, L, K + 5] for the levels, or image sizes for another batch size.</exception>
    public IReadOnlyList<FcosDetections> Detect(Tensor output, FcosLevels levels, IReadOnlyList<(int Height, int Width)>? imageSizes = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(levels);
        var shape = output.Shape;
        if (shape.Length != 3 || shape[1] != levels.Count || shape[2] < 6)
        {
            throw new ArgumentException($"the FCOS output must be [B, {levels.Count}, K + 5] for levels {string.Join("/", levels.Names)}, got [{string.Join(", ", shape)}]", nameof(output));
        }

        if (imageSizes is not null && imageSizes.Count != shape[0])
        {
            throw new ArgumentException($"{imageSizes.Count} image sizes for a batch of {shape[0]}", nameof(imageSizes));
        }

        var k = shape[2] - 5;
        using var noGrad = Autograd.NoGrad();
        var all = output.Detach().To(DType.Float32, Device.Cpu);
        var locations = levels.Locations();
        var results = new FcosDetections[shape[0]];
        for (var i = 0; i < shape[0]; i++)
        {
            var (h, w) = imageSizes?[i] ?? (levels.Sizes[0].Height * levels.Strides[0], levels.Sizes[0].Width * levels.Strides[0]);
            var boxes = new List<Tensor>();
            var scores = new List<Tensor>();
            var labels = new List<Tensor>();
            for (var level = 0; level < levels.Names.Count; level++)
            {
                var n = (long)levels.Sizes[level].Height * levels.Sizes[level].Width;
                var rows = all.Select(0, i).Narrow(0, levels.Offsets[level], n);
                var p = rows.Narrow(1, 0, k).Sigmoid();
                var c = rows.Select(1, k + 4).Sigmoid();
                var candidate = (p > ScoreThreshold).Reshape(-1);
                var flat = Tensor.Arange(n * k).MaskedSelect(candidate);
                var score = (p * c.Unsqueeze(1)).Reshape(-1).MaskedSelect(candidate);
                if (score.Shape[0] > PreNmsTopK)
                {
                    var (top, index) = score.TopK(PreNmsTopK);
                    score = top;
                    flat = flat.IndexSelect(0, index);
                }

                var location = flat.FloorDivide(k);
                var points = locations.Narrow(0, levels.Offsets[level], n).IndexSelect(0, location);
                var distances = rows.Narrow(1, k, 4).IndexSelect(0, location) * levels.Strides[level];
                var decoded = Tensor.Stack([
                    points.Select(1, 0) - distances.Select(1, 0), points.Select(1, 1) - distances.Select(1, 1),
                    points.Select(1, 0) + distances.Select(1, 2), points.Select(1, 1) + distances.Select(1, 3)], 1);
                boxes.Add(BoxOps.ClipToImage(decoded, h, w));
                scores.Add(score.Sqrt());
                labels.Add(flat - (location * k));
            }

            var allBoxes = Tensor.Cat([.. boxes], 0);
            var allScores = Tensor.Cat([.. scores], 0);
            var allLabels = Tensor.Cat([.. labels], 0);
            var keep = BoxOps.BatchedNms(allBoxes, allScores, allLabels, NmsThreshold);
            if (keep.Shape[0] > DetectionsPerImage)
            {
                keep = keep.Narrow(0, 0, DetectionsPerImage);
            }

            results[i] = new FcosDetections(allBoxes.IndexSelect(0, keep), allScores.IndexSelect(0, keep), allLabels.IndexSelect(0, keep));
        }

        return results;
    }
}
