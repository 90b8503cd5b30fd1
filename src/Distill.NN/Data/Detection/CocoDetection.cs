using System.Globalization;
using System.Text.Json;

namespace Distill.NN.Data.Detection;

/// <summary>
/// A COCO instances file (images, annotations, categories) with its image folder, labelled with <see cref="Boxes"/>.
/// Category ids (COCO's run 1-90 with gaps) become contiguous labels in increasing id order, the names kept as
/// <see cref="Classes"/>; bbox [x, y, w, h] becomes (x, y, x + w, y + h); iscrowd marks an ignore region; area is kept
/// (w x h when absent). A box reaching outside its image is clipped to it (rounding in real files puts boxes a fraction of a
/// pixel out); an annotation with w or h &lt;= 0 is skipped, as mmdet's and torchvision's COCO readers skip it, and counted in
/// <see cref="SkippedEmptyBoxes"/>; a bbox holding NaN or an infinity, or a box with none of it inside its image, is refused. The file is read and checked when the
/// set is made: each error names the file and the record (images[i], annotations[j], categories[k]) and is thrown as a
/// <see cref="DataFormatException"/>. Images are read when sampled, as RGB by default.
/// </summary>
public sealed class CocoDetection : IImageDataset
{
    private readonly string[] _paths;
    private readonly Boxes[] _boxes;
    private readonly int _channels;

    private CocoDetection(string annotationFile, string[] paths, Boxes[] boxes, string[] classes, long[] categoryIds, long[] imageIds, int channels, int skipped)
    {
        SkippedEmptyBoxes = skipped;
        AnnotationFile = annotationFile;
        _paths = paths;
        _boxes = boxes;
        Classes = classes;
        CategoryIds = categoryIds;
        ImageIds = imageIds;
        _channels = channels;
    }

    /// <summary>The instances file.</summary>
    public string AnnotationFile { get; }

    /// <inheritdoc />
    public int Count => _paths.Length;

    /// <summary>The category names, label by label.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The COCO category id of each label (results files name categories by id).</summary>
    public IReadOnlyList<long> CategoryIds { get; }

    /// <summary>How many annotations had a bbox of width or height &lt;= 0 and were skipped (not in any sample's boxes).</summary>
    public int SkippedEmptyBoxes { get; }

    /// <summary>The COCO image id of each sample, in the file's order of images.</summary>
    public IReadOnlyList<long> ImageIds { get; }

    /// <summary>Reads <paramref name="annotationFile"/>; image file names are relative to <paramref name="imageDirectory"/>.</summary>
    /// <param name="annotationFile">The instances JSON.</param>
    /// <param name="imageDirectory">The folder holding the images' file_name paths.</param>
    /// <param name="channels">3 (RGB, the default) or 1 (grey).</param>
    /// <exception cref="DataFormatException">The file is unreadable, not COCO instances JSON, or a record is wrong (the message names it).</exception>
    public static CocoDetection Open(string annotationFile, string imageDirectory, int channels = 3)
    {
        ArgumentNullException.ThrowIfNull(annotationFile);
        ArgumentNullException.ThrowIfNull(imageDirectory);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "images are read with 1 (grey) or 3 (RGB) channels");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(annotationFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{annotationFile}: cannot be read: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{annotationFile}: not JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of the line): {e.Message}", e);
        }

        using (document)
        {
            return Read(annotationFile, imageDirectory, document.RootElement, channels);
        }
    }

    /// <inheritdoc />
    public Sample Get(int index)
    {
        var image = ImageFolderDataset.ReadImage(_paths[index], _channels);
        var boxes = _boxes[index];
        return image.Height == boxes.Height && image.Width == boxes.Width ? new Sample(image, boxes, index)
            : throw new DataFormatException(
                $"{_paths[index]}: {image.Height}x{image.Width} pixels, but images[{index}] of {AnnotationFile} says height {boxes.Height}, width {boxes.Width}");
    }

    /// <summary>Samples carry boxes, not one class.</summary>
    public int LabelOf(int index) =>
        throw new NotSupportedException("COCO images carry boxes, not a class label; a detection set has no per-sample class");

    private static CocoDetection Read(string file, string imageDirectory, JsonElement root, int channels)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new DataFormatException($"{file}: the top level is a {root.ValueKind}, not an object with images, annotations and categories");
        }

        var images = ArrayOf(file, root, "images", required: true);
        var categories = ArrayOf(file, root, "categories", required: true);
        var annotations = ArrayOf(file, root, "annotations", required: false);
        if (images.Count == 0)
        {
            throw new DataFormatException($"{file}: images is empty; a data set needs at least one image");
        }

        // Categories: contiguous labels in increasing id order.
        var byId = new SortedDictionary<long, string>();
        for (var k = 0; k < categories.Count; k++)
        {
            var record = $"{file}: categories[{k}]";
            var id = Integer(record, categories[k], "id");
            var name = Text(record, categories[k], "name");
            if (!byId.TryAdd(id, name))
            {
                throw new DataFormatException($"{record} repeats category id {id}");
            }
        }

        if (byId.Count == 0)
        {
            throw new DataFormatException($"{file}: categories is empty; boxes need at least one class");
        }

        var labelOf = byId.Keys.Select((id, label) => (id, label)).ToDictionary(p => p.id, p => p.label);

        // Images: their files must exist.
        var index = new Dictionary<long, int>();
        var paths = new string[images.Count];
        var sizes = new (int Height, int Width)[images.Count];
        var imageIds = new long[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            var record = $"{file}: images[{i}]";
            var id = Integer(record, images[i], "id");
            record += $" (id {id})";
            if (!index.TryAdd(id, i))
            {
                throw new DataFormatException($"{record} repeats image id {id}");
            }

            var name = Text(record, images[i], "file_name");
            var (height, width) = ((int)Integer(record, images[i], "height"), (int)Integer(record, images[i], "width"));
            if (height < 1 || width < 1)
            {
                throw new DataFormatException($"{record} has height {height} and width {width}; both must be at least 1");
            }

            paths[i] = Path.Combine(imageDirectory, name);
            if (!File.Exists(paths[i]))
            {
                throw new DataFormatException($"{paths[i]}: no such image file ({record}, file_name '{name}')");
            }

            sizes[i] = (height, width);
            imageIds[i] = id;
        }

        // Annotations, grouped by image in file order.
        var objects = new List<(float[] Box, int Label, bool Crowd, float Area)>[images.Count];
        for (var i = 0; i < objects.Length; i++)
        {
            objects[i] = [];
        }

        var skipped = 0;
        for (var j = 0; j < annotations.Count; j++)
        {
            var a = annotations[j];
            var record = $"{file}: annotations[{j}]";
            if (a.ValueKind == JsonValueKind.Object && a.TryGetProperty("id", out var aid) && aid.ValueKind == JsonValueKind.Number)
            {
                record += $" (id {aid.GetRawText()})";
            }

            var imageId = Integer(record, a, "image_id");
            if (!index.TryGetValue(imageId, out var image))
            {
                throw new DataFormatException($"{record} refers to image_id {imageId}, which no entry of images has");
            }

            var categoryId = Integer(record, a, "category_id");
            if (!labelOf.TryGetValue(categoryId, out var label))
            {
                throw new DataFormatException($"{record} has category_id {categoryId}, which categories does not list (ids {string.Join(", ", byId.Keys)})");
            }

            if (!a.TryGetProperty("bbox", out var bbox) || bbox.ValueKind != JsonValueKind.Array || bbox.GetArrayLength() != 4
                || bbox.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
            {
                throw new DataFormatException($"{record} needs bbox as four numbers [x, y, width, height]");
            }

            // A number beyond double's range (1e400) reads as no number rather than an infinity.
            var b = bbox.EnumerateArray().Select(v => v.TryGetDouble(out var d) ? d : double.NaN).ToArray();
            if (!b.All(double.IsFinite))
            {
                throw new DataFormatException($"{record} has bbox {bbox.GetRawText()} with a value that is not a finite number");
            }

            var box = Show(b);

            if (b[2] <= 0 || b[3] <= 0)
            {
                // No extent: mmdet and torchvision drop such annotations; a caller reports the count.
                skipped++;
                continue;
            }

            var (h, w) = sizes[image];
            float x1 = (float)Math.Clamp(b[0], 0, w), y1 = (float)Math.Clamp(b[1], 0, h);
            float x2 = (float)Math.Clamp(b[0] + b[2], 0, w), y2 = (float)Math.Clamp(b[1] + b[3], 0, h);
            if (!(x2 > x1) || !(y2 > y1))
            {
                throw new DataFormatException($"{record} has bbox {box} wholly outside its {w}x{h} (width x height) image, image_id {imageId}");
            }

            var crowd = a.TryGetProperty("iscrowd", out var c) && c.ValueKind == JsonValueKind.Number && c.GetDouble() != 0;
            var area = a.TryGetProperty("area", out var ar) && ar.ValueKind == JsonValueKind.Number ? ar.GetDouble() : b[2] * b[3];
            objects[image].Add(([x1, y1, x2, y2], label, crowd, (float)area));
        }

        var boxes = new Boxes[images.Count];
        for (var i = 0; i < boxes.Length; i++)
        {
            var o = objects[i];
            boxes[i] = new Boxes(sizes[i].Height, sizes[i].Width, [.. o.SelectMany(x => x.Box)], [.. o.Select(x => x.Label)], [.. o.Select(x => x.Crowd)], [.. o.Select(x => x.Area)]);
        }

        return new CocoDetection(file, paths, boxes, [.. byId.Values], [.. byId.Keys], imageIds, channels, skipped);
    }

    private static string Show(double[] b) => $"[{string.Join(", ", b.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]";

    private static List<JsonElement> ArrayOf(string file, JsonElement root, string name, bool required)
    {
        if (!root.TryGetProperty(name, out var array))
        {
            return required ? throw new DataFormatException($"{file}: no {name} list; a COCO instances file has images, annotations and categories") : [];
        }

        return array.ValueKind == JsonValueKind.Array ? [.. array.EnumerateArray()]
            : throw new DataFormatException($"{file}: {name} is a {array.ValueKind}, not a list");
    }

    private static long Integer(string record, JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n
            : throw new DataFormatException($"{record} needs {name} as an integer");

    private static string Text(string record, JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new DataFormatException($"{record} needs {name} as a string");
}
