using System.Text.Json;
using Distill.Torch;

namespace Distill.NN.Data.Scenes;

/// <summary>Writes a mask-labelled dataset as an image + label PNG folder pair (8-bit grey PNGs, labels as indices, optionally as palette PNGs), or a box-labelled one as PNG images + a COCO instances file.</summary>
public static class SceneExporter
{
    /// <summary>The file name of sample <paramref name="index"/> (the same in both folders).</summary>
    public static string FileName(int index) => $"{index:D5}.png";

    /// <summary>
    /// Writes sample i as <c>images/NNNNN.png</c> (grey, round(v · 255)) and <c>labels/NNNNN.png</c> (the mask's indices)
    /// under <paramref name="directory"/>. With <paramref name="labelPalette"/> (e.g. <see cref="Segmentation.VocPalette.Colors"/>)
    /// the labels are written as 8-bit palette PNGs with that palette (the same indices, shown in colour by image viewers).
    /// </summary>
    public static void Export(IImageDataset data, string directory, int? count = null, IReadOnlyList<byte>? labelPalette = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(directory);
        var images = Directory.CreateDirectory(Path.Combine(directory, "images")).FullName;
        var labels = Directory.CreateDirectory(Path.Combine(directory, "labels")).FullName;
        var n = Math.Min(count ?? data.Count, data.Count);
        for (var i = 0; i < n; i++)
        {
            var sample = data.Get(i);
            if (sample.Target is not Mask mask)
            {
                throw new ArgumentException($"sample {i} is labelled with a {sample.Target.Kind}, not a mask; only mask-labelled data export as label PNGs", nameof(data));
            }

            File.WriteAllBytes(Path.Combine(images, FileName(i)), EncodeImage(sample.Image));
            File.WriteAllBytes(Path.Combine(labels, FileName(i)), labelPalette is null
                ? EncodeGrey(mask.Data, mask.Height, mask.Width, 1)
                : Segmentation.LabelPng.Encode(mask.Data, mask.Height, mask.Width, labelPalette));
        }
    }

    /// <summary>The COCO instances file <see cref="ExportDetection"/> writes beside images/.</summary>
    public const string DetectionAnnotationFile = "annotations.json";

    /// <summary>
    /// Writes a box-labelled dataset as COCO: sample i as <c>images/NNNNN.png</c> (as <see cref="Export"/> writes them) and
    /// <see cref="DetectionAnnotationFile"/> with its images (id i + 1), categories (id label + 1, the data set's class
    /// names) and annotations (bbox [x1, y1, x2 - x1, y2 - y1], area, iscrowd), so the same scenes can be read back with
    /// <see cref="Detection.CocoDetection"/> (root the directory, images under images/).
    /// </summary>
    public static void ExportDetection(IImageDataset data, string directory, int? count = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(directory);
        var images = Directory.CreateDirectory(Path.Combine(directory, "images")).FullName;
        var n = Math.Min(count ?? data.Count, data.Count);
        using var stream = File.Create(Path.Combine(directory, DetectionAnnotationFile));
        using var json = new Utf8JsonWriter(stream);
        var annotations = new List<(int Image, Boxes Boxes)>(n);
        json.WriteStartObject();
        json.WriteStartArray("images");
        for (var i = 0; i < n; i++)
        {
            var sample = data.Get(i);
            if (sample.Target is not Boxes boxes)
            {
                throw new ArgumentException($"sample {i} is labelled with a {sample.Target.Kind}, not boxes; only box-labelled data export as COCO instances", nameof(data));
            }

            File.WriteAllBytes(Path.Combine(images, FileName(i)), EncodeImage(sample.Image));
            json.WriteStartObject();
            json.WriteNumber("id", i + 1);
            json.WriteString("file_name", FileName(i));
            json.WriteNumber("height", sample.Image.Height);
            json.WriteNumber("width", sample.Image.Width);
            json.WriteEndObject();
            annotations.Add((i + 1, boxes));
        }

        json.WriteEndArray();
        json.WriteStartArray("annotations");
        var id = 0;
        foreach (var (image, boxes) in annotations)
        {
            for (var k = 0; k < boxes.Count; k++)
            {
                var (x1, y1, x2, y2) = boxes.Box(k);
                json.WriteStartObject();
                json.WriteNumber("id", ++id);
                json.WriteNumber("image_id", image);
                json.WriteNumber("category_id", boxes.Labels[k] + 1);
                json.WriteStartArray("bbox");
                json.WriteNumberValue(x1);
                json.WriteNumberValue(y1);
                json.WriteNumberValue(x2 - x1);
                json.WriteNumberValue(y2 - y1);
                json.WriteEndArray();
                json.WriteNumber("area", boxes.Areas[k]);
                json.WriteNumber("iscrowd", boxes.Crowd[k] ? 1 : 0);
                json.WriteEndObject();
            }
        }

        json.WriteEndArray();
        json.WriteStartArray("categories");
        for (var c = 0; c < data.Classes.Count; c++)
        {
            json.WriteStartObject();
            json.WriteNumber("id", c + 1);
            json.WriteString("name", data.Classes[c]);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>An image's 8-bit bytes, channel-interleaved: round(clamp(v, 0, 1) · 255).</summary>
    public static byte[] ToBytes(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int c = image.Channels, plane = image.Height * image.Width;
        var bytes = new byte[image.Data.Length];
        for (var ch = 0; ch < c; ch++)
        {
            for (var i = 0; i < plane; i++)
            {
                bytes[(i * c) + ch] = (byte)MathF.Round(Math.Clamp(image.Data[(ch * plane) + i], 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
            }
        }

        return bytes;
    }

    private static byte[] EncodeImage(Image image) => EncodeGrey(ToBytes(image), image.Height, image.Width, image.Channels);

    private static byte[] EncodeGrey(byte[] pixels, int height, int width, int channels)
    {
        using var t = Tensor.From(pixels, height, width, channels);
        return ImageCodec.EncodePng(t);
    }
}
